#!/usr/bin/env bash
# First-time setup (the Python original's setup.sh): install, create .env with a fresh secret, migrate.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null || { echo "Node.js 20 or newer is required" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "Node.js 20 or newer is required (found $(node -v))" >&2; exit 1; }

echo "Installing dependencies"
npm ci --no-audit --no-fund

if [ -f .env ]; then
  echo ".env exists: left as it is"
else
  secret=$(npx tsx scripts/generate-secret-key.ts)
  sed "s|^SECRET_KEY=.*|SECRET_KEY=${secret}|" .env.example > .env
  echo "Created .env with a fresh SECRET_KEY"
fi

echo "Applying migrations"
npm run -s migrate

echo
echo "Ready. Start the server with: npm start   (then open http://localhost:8000/docs)"
