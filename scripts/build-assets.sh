#!/usr/bin/env bash
# Build Mutual's front-end assets from the pinned npm lock file.
#
#   bash scripts/build-assets.sh     (run from the repository root; `make assets`)
#
# Output, committed so that `go build` works from a clean checkout:
#   internal/web/ui/static/css/mutual.css          web/scss/mutual.scss compiled
#   internal/web/ui/static/js/nhsuk-frontend.min.js NHS.UK frontend ES module
#   internal/web/ui/static/images/*                 images the CSS refers to, and favicons
# The folder is served at /assets/, so /assets/css/mutual.css and so on.
#
# The build fails if the CSS would make the browser fetch anything from
# another host (absolute URLs or @font-face), or refers to an image it
# did not copy.
set -euo pipefail

cd "$(dirname "$0")/.."

nhsuk=node_modules/nhsuk-frontend
dist=$nhsuk/dist/nhsuk
static=internal/web/ui/static

# Install exactly what package-lock.json pins when node_modules is missing
# or older than the lock file.
if [[ ! -d $nhsuk || package-lock.json -nt $nhsuk ]]; then
  echo "build-assets: installing npm packages from package-lock.json" >&2
  npm ci --no-audit --no-fund
  touch "$nhsuk"
fi

mkdir -p "$static/css" "$static/js" "$static/images"

# Compile the stylesheet to a temporary file; it replaces the committed one
# only once every check below has passed.
css=$static/css/mutual.css
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
node_modules/.bin/sass --no-source-map --style=compressed --load-path=node_modules \
  web/scss/mutual.scss "$tmp"

# Nothing may load from another host.
if grep -Eq 'https?://' "$tmp"; then
  echo "build-assets: the compiled CSS contains an absolute URL:" >&2
  grep -Eo '.{0,40}https?://[^")]*' "$tmp" >&2
  exit 1
fi
if grep -q '@font-face' "$tmp"; then
  echo "build-assets: the compiled CSS contains @font-face; set \$nhsuk-include-font-face: false" >&2
  exit 1
fi

# Every image the CSS refers to must be one nhsuk-frontend ships, under
# /assets/images/.
mapfile -t images < <(grep -o 'url([^)]*)' "$tmp" | sed -E 's/^url\(["'\'']?//; s/["'\'']?\)$//' | sort -u)
for ref in "${images[@]}"; do
  case $ref in
  data:*) ;;
  /assets/images/*)
    if [[ ! -f $dist/assets/images/${ref#/assets/images/} ]]; then
      echo "build-assets: the CSS refers to $ref, which nhsuk-frontend does not ship" >&2
      exit 1
    fi
    ;;
  *)
    echo "build-assets: the CSS refers to $ref, which is not under /assets/images/" >&2
    exit 1
    ;;
  esac
done

# The NHS.UK frontend ES module bundle (exports initAll). Drop the source
# map comment: we do not ship the map.
sed -e 's|//# sourceMappingURL=[^ ]*$||' "$dist/nhsuk-frontend.min.js" >"$static/js/nhsuk-frontend.min.js"

# Install: the stylesheet, the images it refers to, and the favicons the
# layout links.
cp "$tmp" "$css"
chmod 644 "$css"
rm -f "$static"/images/*
for ref in "${images[@]}"; do
  if [[ $ref == /assets/images/* ]]; then
    cp "$dist/assets/images/${ref#/assets/images/}" "$static/images/"
  fi
done
cp "$dist/assets/images/favicon.ico" "$dist/assets/images/favicon.svg" "$static/images/"

ls -l "$css" "$static/js/nhsuk-frontend.min.js" "$static"/images/* | awk '{print "build-assets: " $5 "\t" $NF}'
