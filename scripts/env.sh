# Environment for every Reflex command (sourced by the Makefile's recipes).
export PATH="$PWD/tools/node_modules/.bin:$PWD/.venv/bin:$PATH"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
export NPM_CONFIG_REGISTRY="${NPM_CONFIG_REGISTRY:-$(npm config get registry 2>/dev/null)}"
export REFLEX_DIR="${REFLEX_DIR:-$PWD/.reflex}"
export BUN_INSTALL_CACHE_DIR="${BUN_INSTALL_CACHE_DIR:-$PWD/.reflex/bun-cache}"
