// `wrangler kv` (4.86.0) against one node's REST API, as users run it.
// Env: KV_NPM_DIR, KV_BASE_URL, KV_TOKEN, KV_ACCOUNT (see sdk_test.cjs).
// Prints "[ PASS ]"/"[ FAIL ]" per case; exits 1 if any failed.
"use strict";
const assert = require("node:assert");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync, spawnSync } = require("node:child_process");

const wranglerJs = path.join(process.env.KV_NPM_DIR, "node_modules", "wrangler", "bin",
                             "wrangler.js");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "kv-wrangler-"));
const env = {
  ...process.env,
  CLOUDFLARE_API_BASE_URL: process.env.KV_BASE_URL,
  CLOUDFLARE_API_TOKEN: process.env.KV_TOKEN,
  CLOUDFLARE_ACCOUNT_ID: process.env.KV_ACCOUNT,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true",
  HOME: work,
  XDG_CONFIG_HOME: path.join(work, ".config"),
};
delete env.CLOUDFLARE_API_KEY;
delete env.CLOUDFLARE_EMAIL;

// Runs wrangler in `where` ({cwd, env}, default: work, env); returns
// {status, stdout (Buffer), stderr}.
function wranglerIn(where, ...args) {
  const r = spawnSync(process.execPath, [wranglerJs, ...args],
                      { cwd: where.cwd, env: where.env, timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}
const here = { cwd: work, env };
function wrangler(...args) { return wranglerIn(here, ...args); }
function okIn(where, ...args) {
  const r = wranglerIn(where, ...args);
  assert.strictEqual(r.status, 0, `wrangler ${args.join(" ")}: ${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
function ok(...args) { return okIn(here, ...args); }
function jsonOut(buf) {
  const s = buf.toString();
  return JSON.parse(s.slice(s.search(/[\[{]/)));
}

const title = `wr-${process.pid}-${Date.now()}`;
let nsId = "";

const cases = {
  namespaceCreateAndList() {
    const out = ok("kv", "namespace", "create", title).toString();
    const m = out.match(/"?id"?\s*[:=]\s*"([0-9a-f]{32})"/);
    assert.ok(m, out);
    nsId = m[1];
    const listed = jsonOut(ok("kv", "namespace", "list"));
    assert.ok(listed.some((n) => n.id === nsId && n.title === title), JSON.stringify(listed));
  },

  // Without CLOUDFLARE_ACCOUNT_ID wrangler finds the account by
  // GET /memberships: the token's own. In a directory of its own, where
  // wrangler has cached no account (.wrangler/cache/wrangler-account.json).
  accountFoundFromTheTokenAlone() {
    const noAccount = { ...env };
    delete noAccount.CLOUDFLARE_ACCOUNT_ID;
    const fresh = fs.mkdtempSync(path.join(work, "no-account-"));
    const listed = jsonOut(okIn({ cwd: fresh, env: noAccount }, "kv", "namespace", "list"));
    assert.ok(listed.some((n) => n.id === nsId), JSON.stringify(listed));
  },

  keyPutGetListDeleteWithMetadataTtlAndBinaryPath() {
    const ns = ["--namespace-id", nsId, "--remote"];
    ok("kv", "key", "put", "greeting", "hello world", ...ns, "--metadata", '{"a":1}',
       "--ttl", "120");
    assert.strictEqual(ok("kv", "key", "get", "greeting", ...ns, "--text").toString().trim(),
                       "hello world");
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
    fs.writeFileSync(path.join(work, "blob.bin"), bytes);
    ok("kv", "key", "put", "blob+1", ...ns, "--path", path.join(work, "blob.bin"));
    assert.deepStrictEqual(ok("kv", "key", "get", "blob+1", ...ns), bytes);
    const keys = jsonOut(ok("kv", "key", "list", ...ns));
    const greeting = keys.find((k) => k.name === "greeting");
    assert.deepStrictEqual(greeting.metadata, { a: 1 });
    assert.ok(greeting.expiration > Date.now() / 1000 + 100, JSON.stringify(greeting));
    assert.ok(keys.some((k) => k.name === "blob+1"), JSON.stringify(keys));
    ok("kv", "key", "delete", "greeting", ...ns);
    const missing = wrangler("kv", "key", "get", "greeting", ...ns, "--text");
    assert.notStrictEqual(missing.status, 0);
    assert.match(missing.stderr + missing.stdout.toString(), /404/);
  },

  bulkPutAndDeleteOf2500Entries() {
    const ns = ["--namespace-id", nsId, "--remote"];
    const entries = [];
    for (let i = 0; i < 2500; i++) entries.push({ key: `bulk-${i}`, value: `v${i}` });
    entries[7].metadata = { seven: true };
    entries[8] = { key: "bulk-8", value: Buffer.from("eight").toString("base64"), base64: true };
    fs.writeFileSync(path.join(work, "bulk.json"), JSON.stringify(entries));
    ok("kv", "bulk", "put", path.join(work, "bulk.json"), ...ns);
    const keys = jsonOut(ok("kv", "key", "list", ...ns, "--prefix", "bulk-"));
    assert.strictEqual(keys.length, 2500);
    assert.deepStrictEqual(keys.find((k) => k.name === "bulk-7").metadata, { seven: true });
    assert.strictEqual(ok("kv", "key", "get", "bulk-8", ...ns, "--text").toString().trim(),
                       "eight");
    fs.writeFileSync(path.join(work, "keys.json"), JSON.stringify(entries.map((e) => e.key)));
    ok("kv", "bulk", "delete", path.join(work, "keys.json"), ...ns, "--force");
    assert.strictEqual(jsonOut(ok("kv", "key", "list", ...ns, "--prefix", "bulk-")).length, 0);
  },

  namespaceDelete() {
    ok("kv", "namespace", "delete", "--namespace-id", nsId, "--skip-confirmation");
    const listed = jsonOut(ok("kv", "namespace", "list"));
    assert.ok(!listed.some((n) => n.id === nsId));
  },
};

let failed = 0;
for (const [name, fn] of Object.entries(cases)) {
  const start = Date.now();
  try {
    fn();
    console.log(`[ PASS ] wrangler:${name} (${Date.now() - start}ms)`);
  } catch (e) {
    failed++;
    console.log(`[ FAIL ] wrangler:${name}: ${e && e.stack || e}`);
  }
}
fs.rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
