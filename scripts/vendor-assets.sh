#!/usr/bin/env bash
# Fetch the front-end code the service serves (YASGUI for /sparql, Swagger UI for /docs) from the npm registry,
# exactly as pinned by web-assets/package-lock.json (integrity hashes checked by `npm ci`), and copy the built
# files with their licenses into kg_service/web/static/vendor/. The result is committed, so a pip install works
# offline and no page ever loads code from a CDN. Run it again after changing a version in web-assets/package.json
# (then `npm install --package-lock-only` there first to update the lock).
set -euo pipefail
cd "$(dirname "$0")/.."
assets=web-assets
vendor=kg_service/web/static/vendor

(cd "$assets" && npm ci --ignore-scripts --no-audit --no-fund)
modules="$assets/node_modules"

copy() {  # copy <package dir> <destination> <files...>: the files, the license, and where they came from
  local package=$1 destination=$2
  shift 2
  rm -rf "$destination" && mkdir -p "$destination"
  for file in "$@"; do cp "$modules/$package/$file" "$destination/"; done
  node -e '
    const p = require(process.argv[1]);
    const lock = require(process.argv[2]).packages["node_modules/" + p.name];
    console.log(`${p.name} ${p.version} (${p.license}) from the npm registry, integrity ${lock.integrity}`);
  ' "$PWD/$modules/$package/package.json" "$PWD/$assets/package-lock.json" > "$destination/SOURCE"
  [[ -f "$modules/$package/NOTICE" ]] && cp "$modules/$package/NOTICE" "$destination/NOTICE"
  if [[ -f "$modules/$package/LICENSE" ]]; then
    cp "$modules/$package/LICENSE" "$destination/LICENSE"
  else  # the package ships only its package.json license field: record it with the MIT text it names
    node -e '
      const p = require(process.argv[1]);
      if (p.license !== "MIT") { console.error(`${p.name}: unexpected license ${p.license}`); process.exit(1); }
      const who = [p.author, ...(p.contributors || []).map(c => c.name || c)].filter(Boolean).join(", ");
      console.log(`${p.name} ${p.version} declares the MIT license in its package.json (${p.homepage}).

MIT License

Copyright (c) ${who}

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of
the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`);
    ' "$PWD/$modules/$package/package.json" > "$destination/LICENSE"
  fi
}

copy @zazuko/yasgui "$vendor/yasgui" build/yasgui.min.js build/yasgui.min.css
copy swagger-ui-dist "$vendor/swagger-ui" swagger-ui-bundle.js swagger-ui.css
# Test-only: axe-core runs the accessibility checks in tests/test_browser.py; it is never served.
copy axe-core tests/vendor/axe-core axe.min.js
# The bundles end with a sourceMappingURL comment; the maps are not shipped, so drop the dangling reference.
sed -i '/^\/\/# sourceMappingURL=/d; s#/\*\# sourceMappingURL=[^*]*\*/##' "$vendor"/*/*.js "$vendor"/*/*.css
echo "vendored into $vendor and tests/vendor:"
ls -l "$vendor"/* tests/vendor/*
