#!/usr/bin/env bash
# Serve the app (gunicorn) and the scheduler side by side; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"
BIN=.venv/bin
base="${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}"
standin=""
if [ -z "${WECHAT_OA_APP_SECRET:-}${WECHAT_MP_APP_SECRET:-}" ]; then
  # No WeChat credentials: sandbox mode. The stand-in for WeChat's API answers instead (docs/wechat.md).
  standin_port="${WECHAT_STANDIN_PORT:-$((PORT + 1))}"
  export WECHAT_SANDBOX=1 WECHAT_API_BASE="http://127.0.0.1:$standin_port/"
  "$BIN/flask" --app app wechat standin --port "$standin_port" &
  standin=$!
  if [ -z "${SMS_SECRET_ID:-}" ]; then  # and the SMS stand-in plays Tencent Cloud SMS (/dev/sms)
    sms_port="${SMS_STANDIN_PORT:-$((PORT + 2))}"
    export SMS_API_BASE="http://127.0.0.1:$sms_port"
    "$BIN/flask" --app app sms standin --port "$sms_port" &
    standin="$standin $!"
  fi
fi
"$BIN/flask" --app app scheduler &
scheduler=$!
trap 'kill $scheduler $standin 2>/dev/null || true' EXIT
cat <<MSG

  代表连心 is running on port $PORT
  健康检查      $base/healthz
  工作台(控制台) $base/console/login
  代表码页面    $base/d/DB0001    项目 $base/p/XM001    联络站 $base/s/ZCG
  打印代表卡片  $base/qr/card/DB0001.pdf    项目铭牌 $base/qr/plaque/XM001.pdf
  公开问题清单  $base/public/cases
  WeChat 沙箱   $base/dev/wechat    短信沙箱 $base/dev/sms
  开发账号（仅限本机演示）: admin/guanli-2026!  staff/bangong-2026!  chengguan/bangong-2026!
                           zhujian/chengban-2026!  jiaotong/chengban-2026!  daibiao/lvzhi-2026!

MSG
exec "$BIN/gunicorn" --bind "0.0.0.0:$PORT" --workers 2 --threads 4 --access-logfile - "app:create_app()"
