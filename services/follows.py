"""Following a livelihood project (关注项目): a follower hears of every update (services.notify)."""
from models import Follow, Project
from services.errors import NotFound


def project_by_code(code):
    """A published project by its public code; 404 otherwise."""
    project = Project.get_or_none(Project.code == str(code or "").strip().upper(), Project.published == True)  # noqa
    if project is None:
        raise NotFound("project_not_found", "未找到该项目")
    return project


def is_following(account, project):
    return account is not None and Follow.select().where(Follow.account == account, Follow.project == project).exists()


def follower_count(project):
    return Follow.select().where(Follow.project == project).count()


def follow(account, project):
    """Idempotent: following twice keeps one row."""
    Follow.insert(account=account, project=project).on_conflict_ignore().execute()


def unfollow(account, project):
    """Idempotent: unfollowing a project one does not follow is not an error."""
    Follow.delete().where(Follow.account == account, Follow.project == project).execute()


def followed(account):
    """The published projects this account follows, most recently followed first."""
    return list(Project.select().join(Follow).where(Follow.account == account, Project.published == True)  # noqa
                .order_by(Follow.created_at.desc(), Follow.id.desc()))
