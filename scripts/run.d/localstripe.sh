# Sourced by scripts/run.sh (`make run`). Billing: unless real Stripe keys are configured
# (STRIPE_SECRET_KEY), start a local Stripe-compatible server (localstripe, loopback only, no
# disk dump) for the demo, give the saved payment methods a twin in it, and send its webhooks to
# the portal. Card entry in the browser uses its fake Stripe.js.
if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  LOCALSTRIPE_PORT="${LOCALSTRIPE_PORT:-8420}"
  export STRIPE_API_BASE="${STRIPE_API_BASE:-http://127.0.0.1:$LOCALSTRIPE_PORT}"
  python scripts/localstripe_server.py --port "$LOCALSTRIPE_PORT" & pids+=($!)
  rxportal billing-local-sync \
    --webhook-url "http://127.0.0.1:${PORT:-3000}/api/billing/stripe-webhook" || true
fi
