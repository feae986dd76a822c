// The official `cloudflare` SDK (7.3.0) against one node's REST API.
// Env: KV_NPM_DIR (where setup.sh installed the clients), KV_BASE_URL
// (http://127.0.0.1:PORT/client/v4), KV_TOKEN, KV_ACCOUNT.
// Prints one "[ PASS ] name" / "[ FAIL ] name: error" line per case and
// exits 1 if any failed.
"use strict";
const assert = require("node:assert");
const path = require("node:path");
const { createRequire } = require("node:module");
const req = createRequire(path.join(process.env.KV_NPM_DIR, "node_modules", "x.js"));
const Cloudflare = req("cloudflare").default ?? req("cloudflare");
const { toFile } = req("cloudflare");

const account_id = process.env.KV_ACCOUNT;
const cf = new Cloudflare({ baseURL: process.env.KV_BASE_URL, apiToken: process.env.KV_TOKEN,
                            maxRetries: 0 });
const kv = cf.kv.namespaces;
const tag = `sdk-${process.pid}-${Date.now()}`;

async function withNamespace(suffix, fn) {
  const ns = await kv.create({ account_id, title: `${tag}-${suffix}` });
  try {
    await fn(ns.id);
  } finally {
    await kv.delete(ns.id, { account_id });
  }
}

const cases = {
  // Account discovery: the one account the token acts on, through the
  // SDK's paginated lists (they stop at the first empty page).
  async accountsAndMembershipsListTheTokensAccount() {
    const accounts = [];
    for await (const a of cf.accounts.list()) accounts.push(a.id);
    assert.deepStrictEqual(accounts, [account_id]);
    const memberships = [];
    for await (const m of cf.memberships.list()) memberships.push(m.account.id);
    assert.deepStrictEqual(memberships, [account_id]);
  },

  async namespaceLifecycle() {
    const ns = await kv.create({ account_id, title: `${tag}-life` });
    assert.match(ns.id, /^[0-9a-f]{32}$/);
    assert.strictEqual(ns.title, `${tag}-life`);
    assert.strictEqual((await kv.get(ns.id, { account_id })).title, `${tag}-life`);
    const renamed = await kv.update(ns.id, { account_id, title: `${tag}-renamed` });
    assert.strictEqual(renamed.title, `${tag}-renamed`);
    const titles = [];
    for await (const n of kv.list({ account_id, per_page: 5 })) titles.push(n.title);
    assert.ok(titles.includes(`${tag}-renamed`), JSON.stringify(titles));
    await kv.delete(ns.id, { account_id });
    await assert.rejects(kv.get(ns.id, { account_id }), (e) => e.status === 404);
  },

  async textAndBinaryValuesWithMetadataAndTtl() {
    await withNamespace("values", async (namespace_id) => {
      await kv.values.update("greeting", { account_id, namespace_id, value: "hello",
        metadata: JSON.stringify({ x: 1 }), expiration_ttl: 120 });
      const res = await kv.values.get("greeting", { account_id, namespace_id });
      assert.strictEqual(await res.text(), "hello");
      assert.deepStrictEqual(await kv.metadata.get("greeting", { account_id, namespace_id }),
                             { x: 1 });
      const bytes = Buffer.from([0, 1, 2, 255, 254, 0, 128]);
      await kv.values.update("a/b c+d", { account_id, namespace_id,
        value: await toFile(bytes, "bin") });
      const bin = await kv.values.get("a/b c+d", { account_id, namespace_id });
      assert.deepStrictEqual(Buffer.from(await bin.arrayBuffer()), bytes);
      const keys = [];
      for await (const k of kv.keys.list(namespace_id, { account_id })) keys.push(k);
      const greeting = keys.find((k) => k.name === "greeting");
      assert.deepStrictEqual(greeting.metadata, { x: 1 });
      const now = Date.now() / 1000;
      assert.ok(greeting.expiration > now + 100 && greeting.expiration < now + 140,
                `expiration ${greeting.expiration}`);
      assert.ok(keys.some((k) => k.name === "a/b c+d"));
      const bulk = await kv.bulkGet(namespace_id, { account_id, keys: ["greeting", "nope"],
                                                    withMetadata: true });
      assert.deepStrictEqual(bulk.values.greeting.value, "hello");
      assert.deepStrictEqual(bulk.values.greeting.metadata, { x: 1 });
      assert.strictEqual(bulk.values.nope, null);
      await kv.values.delete("greeting", { account_id, namespace_id });
      await assert.rejects(kv.values.get("greeting", { account_id, namespace_id }),
                           (e) => e.status === 404);
    });
  },

  async listWithCursorOverMoreThan1000Keys() {
    await withNamespace("list", async (namespace_id) => {
      const body = [];
      for (let i = 0; i < 1500; i++) body.push({ key: `k${String(i).padStart(5, "0")}`, value: "v" });
      await kv.bulkUpdate(namespace_id, { account_id, body });
      const names = [];
      let pages = 0;
      const first = await kv.keys.list(namespace_id, { account_id });
      for await (const page of first.iterPages()) {
        pages++;
        for (const k of page.result) names.push(k.name);
      }
      assert.strictEqual(names.length, 1500);
      assert.ok(pages >= 2, `pages ${pages}`);
      assert.deepStrictEqual(names, [...names].sort());
      const small = [];
      for await (const k of kv.keys.list(namespace_id, { account_id, prefix: "k0001", limit: 3 })) {
        small.push(k.name);
      }
      assert.strictEqual(small.length, 10);
    });
  },

  async bulkUpdateAndBulkDeleteOf10000Keys() {
    await withNamespace("bulk", async (namespace_id) => {
      const body = [];
      for (let i = 0; i < 10000; i++) {
        body.push({ key: `b${i}`, value: Buffer.from(`value-${i}`).toString("base64"),
                    base64: true, metadata: { i } });
      }
      const put = await kv.bulkUpdate(namespace_id, { account_id, body });
      assert.strictEqual(put.successful_key_count, 10000);
      const got = await kv.bulkGet(namespace_id, { account_id, keys: ["b0", "b9999"],
                                                   withMetadata: true });
      assert.strictEqual(got.values.b9999.value, "value-9999");
      assert.deepStrictEqual(got.values.b9999.metadata, { i: 9999 });
      const del = await kv.bulkDelete(namespace_id, { account_id, body: body.map((e) => e.key) });
      assert.strictEqual(del.successful_key_count, 10000);
      const left = [];
      for await (const k of kv.keys.list(namespace_id, { account_id })) left.push(k);
      assert.strictEqual(left.length, 0);
    });
  },

  async missingKeyGivesTheDocumentedError() {
    await withNamespace("missing", async (namespace_id) => {
      await assert.rejects(kv.values.get("nothing-here", { account_id, namespace_id }), (e) => {
        assert.strictEqual(e.status, 404);
        assert.strictEqual(e.constructor.name, "NotFoundError");
        return true;
      });
      await assert.rejects(kv.metadata.get("nothing-here", { account_id, namespace_id }), (e) => {
        assert.strictEqual(e.status, 404);
        assert.strictEqual(e.errors[0].code, 10009);
        return true;
      });
    });
  },
};

(async () => {
  let failed = 0;
  for (const [name, fn] of Object.entries(cases)) {
    const start = Date.now();
    try {
      await fn();
      console.log(`[ PASS ] sdk:${name} (${Date.now() - start}ms)`);
    } catch (e) {
      failed++;
      console.log(`[ FAIL ] sdk:${name}: ${e && e.stack || e}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
