# Sourced by scripts/run.sh (`make run`). Billing: a local Stripe-compatible server
# (localstripe, loopback only, no disk dump) for the demo. The portal uses it only while no real
# Stripe secret key is configured (STRIPE_SECRET_KEY, or the staff console's payment settings).
# The saved payment methods get a twin in it and its webhooks go to the portal.
if [ -z "${STRIPE_SECRET_KEY:-}" ] && [ -z "${STRIPE_API_BASE:-}" ]; then
  LOCALSTRIPE_PORT="${LOCALSTRIPE_PORT:-8420}"
  export RXPORTAL_LOCAL_STRIPE="http://127.0.0.1:$LOCALSTRIPE_PORT"
  python scripts/localstripe_server.py --port "$LOCALSTRIPE_PORT" & pids+=($!)
  rxportal billing-local-sync \
    --webhook-url "http://127.0.0.1:${PORT:-3000}/api/billing/stripe-webhook" || true
fi
