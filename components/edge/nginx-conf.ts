/**
 * nginx configuration as data: directives and blocks are built as a tree and rendered to text, so
 * the CDN's nginx.conf is generated (never templated by string concatenation) and quoting is
 * handled in one place.
 */

export interface Directive {
    name: string;
    args: string[];
    /** Present for block directives (http, server, location, map, if, ...). */
    block?: Directive[];
}

export const d = (name: string, ...args: (string | number)[]): Directive => ({ name, args: args.map(String) });
export const block = (name: string, args: (string | number)[], children: Directive[]): Directive =>
    ({ name, args: args.map(String), block: children });

/** Quotes an argument when nginx's tokenizer would otherwise split or misread it. */
export function quoteArg(arg: string): string {
    if (arg !== "" && !/[\s;{}"'\\#]/.test(arg)) {
        return arg;
    }
    return `"${arg.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")}"`;
}

/** Renders a directive tree as nginx.conf text (4-space indentation). */
export function renderNginx(nodes: Directive[], depth = 0): string {
    const pad = "    ".repeat(depth);
    return nodes.map(n => {
        const head = [n.name, ...n.args.map(quoteArg)].join(" ");
        if (!n.block) {
            return `${pad}${head};\n`;
        }
        return `${pad}${head} {\n${renderNginx(n.block, depth + 1)}${pad}}\n`;
    }).join("");
}

export interface CdnConfigOptions {
    port: number;
    root: string;
    /** "*" or a list of origins allowed to read assets cross-origin. */
    corsAllowOrigins: string[];
    /** Cache lifetime of ordinary files in browsers and at CDN edges. */
    maxAgeSeconds: number;
    sharedMaxAgeSeconds: number;
    /** Lifetime of fingerprinted ("hashed") files, which never change under the same name. */
    immutableMaxAgeSeconds: number;
    /** Regular expression (case-insensitive) of fingerprinted file names, e.g. app.3f9a1c2e.js. */
    hashedAssetPattern: string;
    gzipTypes: string[];
}

export const HASHED_ASSET_PATTERN = "\\.[0-9a-f]{8,}\\.(?:js|mjs|css|map|woff2?|ttf|otf|eot|svg|png|jpe?g|gif|webp|avif|ico|wasm)$";

export const GZIP_TYPES = [
    "text/plain", "text/css", "text/xml", "text/javascript", "application/javascript", "application/json",
    "application/xml", "application/manifest+json", "application/wasm", "image/svg+xml", "font/ttf", "font/otf",
];

export const CDN_DEFAULTS: Omit<CdnConfigOptions, "corsAllowOrigins"> = {
    port: 8080,
    root: "/usr/share/nginx/html",
    maxAgeSeconds: 3600,
    sharedMaxAgeSeconds: 86400,
    immutableMaxAgeSeconds: 31536000,
    hashedAssetPattern: HASHED_ASSET_PATTERN,
    gzipTypes: GZIP_TYPES,
};

/** Writable paths nginx needs under a read-only root filesystem (all under the /tmp emptyDir). */
export const NGINX_TEMP_PATHS: Record<string, string> = {
    client_body_temp_path: "/tmp/client_temp",
    proxy_temp_path: "/tmp/proxy_temp",
    fastcgi_temp_path: "/tmp/fastcgi_temp",
    uwsgi_temp_path: "/tmp/uwsgi_temp",
    scgi_temp_path: "/tmp/scgi_temp",
};

function corsHeaders(o: CdnConfigOptions): Directive[] {
    const origin = o.corsAllowOrigins.includes("*") ? "*" : "$cors_allow_origin";
    return [
        // An empty value (origin not listed) makes nginx omit the header: the browser then refuses.
        d("add_header", "Access-Control-Allow-Origin", origin, "always"),
        d("add_header", "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS", "always"),
        d("add_header", "Access-Control-Allow-Headers", "Origin, Accept, Range, Content-Type", "always"),
        d("add_header", "Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag", "always"),
        d("add_header", "Access-Control-Max-Age", 86400, "always"),
        d("add_header", "Vary", "Origin", "always"),
        d("add_header", "X-Content-Type-Options", "nosniff", "always"),
    ];
}

/** Answers CORS preflight requests without touching the file system. */
const preflight = (): Directive => block("if", ["($request_method", "=", "OPTIONS)"], [d("return", 204)]);

/**
 * The CDN's nginx.conf: unprivileged (pid and temp files in /tmp, port >= 1024), gzip, cache
 * headers for CDN edges, CORS, and immutable caching of fingerprinted assets.
 */
export function cdnNginxConfig(o: CdnConfigOptions): Directive[] {
    const http: Directive[] = [
        d("include", "/etc/nginx/mime.types"),
        d("default_type", "application/octet-stream"),
        d("server_tokens", "off"),
        d("sendfile", "on"),
        d("tcp_nopush", "on"),
        d("keepalive_timeout", 65),
        d("access_log", "/dev/stdout"),
        ...Object.entries(NGINX_TEMP_PATHS).map(([k, v]) => d(k, v)),
        d("gzip", "on"),
        d("gzip_vary", "on"),
        d("gzip_proxied", "any"),
        d("gzip_comp_level", 6),
        d("gzip_min_length", 1024),
        d("gzip_types", ...o.gzipTypes),
        d("etag", "on"),
    ];
    if (!o.corsAllowOrigins.includes("*")) {
        http.push(block("map", ["$http_origin", "$cors_allow_origin"], [
            d("default", ""),
            ...o.corsAllowOrigins.map(origin => d(origin, "$http_origin")),
        ]));
    }
    const cache = `public, max-age=${o.maxAgeSeconds}, s-maxage=${o.sharedMaxAgeSeconds}, stale-while-revalidate=60`;
    http.push(block("server", [], [
        d("listen", o.port),
        d("server_name", "_"),
        d("root", o.root),
        block("location", ["=", "/healthz"], [
            d("access_log", "off"),
            d("default_type", "text/plain"),
            d("return", 200, "ok\n"),
        ]),
        block("location", ["~*", o.hashedAssetPattern], [
            d("add_header", "Cache-Control", `public, max-age=${o.immutableMaxAgeSeconds}, immutable`, "always"),
            ...corsHeaders(o),
            preflight(),
            d("try_files", "$uri", "=404"),
        ]),
        block("location", ["/"], [
            d("add_header", "Cache-Control", cache, "always"),
            ...corsHeaders(o),
            preflight(),
            d("try_files", "$uri", "$uri/", "=404"),
        ]),
    ]));
    return [
        d("worker_processes", "auto"),
        d("pid", "/tmp/nginx.pid"),
        d("error_log", "/dev/stderr", "warn"),
        block("events", [], [d("worker_connections", 1024)]),
        block("http", [], http),
    ];
}
