// `node --require scripts/ts-cache-register.js`: .ts modules load through scripts/ts-cache.js.
"use strict";
require("./ts-cache.js").register();
