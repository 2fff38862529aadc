"""The scheduler: jobs declared as data with stable ids, fired by APScheduler in the process that holds the
database lease. `flask --app app scheduler` runs it; `flask --app app run-jobs <job> --once` runs one job now.
"""
import datetime as dt
import logging
import os
import signal
import socket
import uuid
import zoneinfo
from dataclasses import dataclass

import click

from jobs import tasks
from models import db
from services import lease

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str        # stable: APScheduler's job id and the name for run-jobs
    title: str
    func: object
    trigger: str   # "interval" or "cron" (local time, TIMEZONE)
    when: dict


JOBS = (
    Job("drain_outbox", "投递通知（微信订阅消息、公众号模板消息、站内信）", tasks.drain_outbox, "interval", {"minutes": 1}),
    Job("escalate_overdue", "超期提醒与督办（黄牌 ≤2 个工作日，红牌超期；代表建议的承诺事项同样催办）", tasks.escalate_overdue, "cron",
        {"hour": 9, "minute": 0}),
    Job("escalate_late_steps", "受理、签收超时提醒（先联络站，再县级；代表建议的签收、协办意见同样提醒）", tasks.escalate_late_steps, "cron",
        {"hour": 9, "minute": 10}),
    Job("close_due_ballots", "表决截止后自动结束并计票", tasks.close_due_ballots, "interval", {"minutes": 1}),
    Job("auto_close", "答复后逾期未评价自动办结", tasks.auto_close, "cron", {"hour": 2, "minute": 30}),
    Job("ask_if_resolved", "办结后回访：问题是否真正解决了", tasks.ask_if_resolved, "cron", {"hour": 10, "minute": 0}),
    Job("purge_audit_log", "清除超过保留期的审计日志", tasks.purge_audit_log, "cron", {"hour": 3, "minute": 0}),
    Job("purge_expired_keys", "清除过期的消息去重、防重放与限流记录", tasks.purge_expired_keys, "cron",
        {"hour": 3, "minute": 30}),
    Job("daily_digest", "代表、承办单位与工作人员每日待办汇总", tasks.daily_digest, "cron", {"hour": 8, "minute": 30}),
    Job("weekly_project_digest", "关注项目每周进展汇总", tasks.weekly_project_digest, "cron",
        {"day_of_week": "mon", "hour": 9, "minute": 30}),
    Job("stats_snapshot", "每晚统计快照与满意率预警", tasks.stats_snapshot, "cron", {"hour": 1, "minute": 0}),
    Job("train_routing", "民情分析：重新训练类别与承办单位建议模型", tasks.train_routing, "cron", {"hour": 1, "minute": 30}),
    Job("refresh_wechat_token", "刷新微信 access_token", tasks.refresh_wechat_token, "interval", {"minutes": 30}),
    Job("sweep_uploads", "清理无人引用的上传图片", tasks.sweep_uploads, "cron", {"hour": 3, "minute": 15}),
    Job("plan_receptions", "按接待日规则排定今后的接待选民日", tasks.plan_receptions, "cron", {"hour": 0, "minute": 30}),
    Job("remind_bookings", "接待日预约提醒（群众与值班代表）", tasks.remind_bookings, "interval", {"hours": 1}),
    Job("remind_inactive_deputies", "长期没有履职记录的代表：温和提醒", tasks.remind_inactive_deputies, "cron",
        {"day": 1, "hour": 10, "minute": 0}),
    Job("purge_personal_data", "删除超过保存期限的群众个人信息", tasks.purge_personal_data, "cron",
        {"hour": 3, "minute": 45}),
)
BY_ID = {job.id: job for job in JOBS}


def find(name):
    job = BY_ID.get(name.replace("-", "_"))
    if job is None:
        raise click.BadParameter(f"没有这个任务：{name}。可用：{', '.join(BY_ID)}", param_hint="JOB")
    return job


def run_now(app, job):
    """Run one job in its own app context and database connection; returns its result."""
    with app.app_context(), db.connection_context():
        return job.func()


def fire(app, job, holder):
    """What APScheduler calls: run the job only when this process leads."""
    try:
        with app.app_context(), db.connection_context():
            if not lease.acquire(holder):
                return None
        result = run_now(app, job)
        log.info("job %s: %s", job.id, result)
        return result
    except Exception:
        log.exception("job %s failed", job.id)
        return None


def build_scheduler(app, holder, jobs=JOBS, blocking=True):
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(timezone=app.config["TIMEZONE"], executors={"default": ThreadPoolExecutor(4)},
                     job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    now = dt.datetime.now(zoneinfo.ZoneInfo(app.config["TIMEZONE"]))
    for job in jobs:
        first = {"next_run_time": now} if job.trigger == "interval" else {}  # drain the backlog at start-up
        scheduler.add_job(fire, job.trigger, args=(app, job, holder), id=job.id, name=job.title,
                          replace_existing=True, **job.when, **first)

    def renew():
        try:
            with app.app_context(), db.connection_context():
                lease.acquire(holder)
        except Exception:
            log.exception("lease renewal failed")
    scheduler.add_job(renew, "interval", seconds=lease.RENEW_EVERY, id="lease_renew", name="续租调度锁")
    return scheduler


def run_scheduler(app, jobs=JOBS):
    """Run until SIGTERM/SIGINT; the lease is released on the way out so a standby takes over at once."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    scheduler = build_scheduler(app, holder, jobs)
    with app.app_context(), db.connection_context():
        leading = lease.acquire(holder)
    click.echo(f"调度器已启动（{holder}，{'主' if leading else '备'}）：" + "，".join(j.id for j in jobs))

    def stop(signum, frame):
        scheduler.shutdown(wait=False)
    signal.signal(signal.SIGTERM, stop)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with app.app_context(), db.connection_context():
            lease.release(holder)


def _log_to_stderr():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # our own line per job run is enough


def init_app(app):

    @app.cli.command("scheduler")
    def scheduler_command():
        """Run the scheduled jobs (only the process holding the database lease fires them)."""
        _log_to_stderr()
        run_scheduler(app)

    @app.cli.command("run-jobs")
    @click.argument("name", metavar="JOB")
    @click.option("--once", is_flag=True, help="Run the job now, once, and exit (no lease needed).")
    def run_jobs_command(name, once):
        """Run one job: `run-jobs drain_outbox --once`; without --once, keep running it on its schedule."""
        job = find(name)
        _log_to_stderr()
        if not once:
            run_scheduler(app, [job])
            return
        result = run_now(app, job)
        click.echo(f"{job.id}: {result}")
