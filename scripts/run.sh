#!/usr/bin/env bash
# Serves the portal in production mode on one port, with its job worker beside it.
# Used by `make run`; settings come from the environment (see README) or a .env file.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && set -a && . ./.env && set +a
. scripts/env.sh
PORT="${RXPORTAL_PORT:-3000}"
if [ -n "${REDIS_URL:-}" ]; then
  # Scaled-out: one worker more than cores (each waits on PostgreSQL during a page load); Reflex
  # would start 2 x cores + 1 (bench/README.md has the figures).
  export GRANIAN_WORKERS="${GRANIAN_WORKERS:-$(( $(nproc) + 1 ))}"
fi
HOST="${RXPORTAL_HOST:-127.0.0.1}"

rxportal setup   # create or migrate the database; demo data when it is new

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

for starter in scripts/run.d/*.sh; do   # feature services (e.g. the local Stripe server)
  [ -e "$starter" ] || continue
  . "$starter"
done

# The job worker runs beside the app unless it has its own service (RXPORTAL_NO_WORKER=1).
if [ "${RXPORTAL_NO_WORKER:-0}" != "1" ]; then
  rxportal worker & pids+=($!)
fi
echo "rxportal: serving on http://$HOST:$PORT (mail without SMTP goes to ${RXPORTAL_MAIL_DIR:-data/mail}/)"
reflex run --env prod --backend-host "$HOST" --frontend-port "$PORT" --backend-port "$PORT" & pids+=($!)
wait -n "${pids[@]}"
