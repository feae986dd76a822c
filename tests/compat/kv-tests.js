// A Worker's view of an edge through workerd's KV binding: run by
// `workerd test kv.wd-test -e kv-edge=127.0.0.1:PORT` (compat_test.cc writes
// kv.wd-test with the namespace and token). One export per case.
import assert from "node:assert";

const P = `t${Date.now()}-`;

export const textJsonArrayBufferStream = {
  async test(ctrl, env) {
    await env.KV.put(P + "text", "héllo");
    assert.strictEqual(await env.KV.get(P + "text"), "héllo");
    assert.strictEqual(await env.KV.get(P + "text", "text"), "héllo");
    await env.KV.put(P + "json", JSON.stringify({ a: [1, 2], b: "c" }));
    assert.deepStrictEqual(await env.KV.get(P + "json", "json"), { a: [1, 2], b: "c" });
    assert.deepStrictEqual(await env.KV.get(P + "json", { type: "json" }), { a: [1, 2], b: "c" });
    const bytes = new Uint8Array([0, 1, 2, 255, 254, 128]);
    await env.KV.put(P + "bin", bytes.buffer);
    assert.deepStrictEqual(new Uint8Array(await env.KV.get(P + "bin", "arrayBuffer")), bytes);
    const stream = await env.KV.get(P + "bin", "stream");
    const read = new Uint8Array(await new Response(stream).arrayBuffer());
    assert.deepStrictEqual(read, bytes);
    // A streamed put of unknown length arrives chunked.
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    const put = env.KV.put(P + "streamed", readable);
    await writer.write(new TextEncoder().encode("chunk-1 "));
    await writer.write(new TextEncoder().encode("chunk-2"));
    await writer.close();
    await put;
    assert.strictEqual(await env.KV.get(P + "streamed"), "chunk-1 chunk-2");
  },
};

export const getWithMetadataPutWithTtl = {
  async test(ctrl, env) {
    await env.KV.put(P + "meta", "v", { metadata: { n: 1, s: "x" }, expirationTtl: 120 });
    const got = await env.KV.getWithMetadata(P + "meta");
    assert.strictEqual(got.value, "v");
    assert.deepStrictEqual(got.metadata, { n: 1, s: "x" });
    await env.KV.put(P + "nometa", "w");
    const plain = await env.KV.getWithMetadata(P + "nometa");
    assert.strictEqual(plain.metadata, null);
    await env.KV.put(P + "strmeta", "w", { metadata: "just-a-string" });
    assert.strictEqual((await env.KV.getWithMetadata(P + "strmeta")).metadata, "just-a-string");
    const listed = await env.KV.list({ prefix: P + "meta" });
    assert.strictEqual(listed.keys.length, 1);
    assert.deepStrictEqual(listed.keys[0].metadata, { n: 1, s: "x" });
    const now = Date.now() / 1000;
    assert.ok(listed.keys[0].expiration > now + 100 && listed.keys[0].expiration < now + 140,
              `expiration ${listed.keys[0].expiration}`);
  },
};

export const repeatedReadIsACacheHit = {
  async test(ctrl, env) {
    await env.KV.put(P + "hot", "hot-value");
    await env.KV.get(P + "hot");
    const again = await env.KV.getWithMetadata(P + "hot");
    assert.strictEqual(again.value, "hot-value");
    assert.strictEqual(again.cacheStatus, "HIT");
    // A key written elsewhere and first read here is a miss, then a hit.
    const first = await env.KV.getWithMetadata(P + "never-written");
    assert.strictEqual(first.value, null);
    const second = await env.KV.getWithMetadata(P + "never-written");
    assert.strictEqual(second.cacheStatus, "HIT");
  },
};

export const listWithPrefixAndCursor = {
  async test(ctrl, env) {
    const prefix = P + "list/";
    for (let i = 0; i < 25; i++) await env.KV.put(`${prefix}${String(i).padStart(2, "0")}`, "x");
    const names = [];
    let cursor;
    let pages = 0;
    do {
      const page = await env.KV.list({ prefix, limit: 10, cursor });
      pages++;
      for (const k of page.keys) names.push(k.name);
      cursor = page.list_complete ? undefined : page.cursor;
      if (page.list_complete) assert.ok(!("cursor" in page) || page.cursor === undefined);
    } while (cursor);
    assert.strictEqual(pages, 3);
    assert.strictEqual(names.length, 25);
    assert.deepStrictEqual(names, [...names].sort());
  },
};

export const deleteAndMissingIsNull = {
  async test(ctrl, env) {
    await env.KV.put(P + "gone", "soon");
    assert.strictEqual(await env.KV.get(P + "gone"), "soon");
    await env.KV.delete(P + "gone");
    assert.strictEqual(await env.KV.get(P + "gone"), null);
    assert.strictEqual(await env.KV.get(P + "missing"), null);
    const missing = await env.KV.getWithMetadata(P + "missing");
    assert.strictEqual(missing.value, null);
    assert.strictEqual(missing.metadata, null);
    await env.KV.delete(P + "never-existed");  // a 2xx
    await env.KV.put(P + "a/b c?d#e%f+g&h=i", "odd");
    assert.strictEqual(await env.KV.get(P + "a/b c?d#e%f+g&h=i"), "odd");
    await env.KV.delete(P + "a/b c?d#e%f+g&h=i");
    assert.strictEqual(await env.KV.get(P + "a/b c?d#e%f+g&h=i"), null);
  },
};

export const bulkGet = {
  async test(ctrl, env) {
    await env.KV.put(P + "b1", "one", { metadata: { x: 1 } });
    await env.KV.put(P + "b2", JSON.stringify({ two: 2 }));
    const plain = await env.KV.get([P + "b1", P + "b2", P + "bmissing"]);
    assert.strictEqual(plain.get(P + "b1"), "one");
    assert.strictEqual(plain.get(P + "bmissing"), null);
    const json = await env.KV.get([P + "b2"], "json");
    assert.deepStrictEqual(json.get(P + "b2"), { two: 2 });
    const meta = await env.KV.getWithMetadata([P + "b1", P + "bmissing"]);
    assert.deepStrictEqual(meta.get(P + "b1"), { value: "one", metadata: { x: 1 } });
    assert.strictEqual(meta.get(P + "bmissing"), null);
  },
};

export const errorsCarryTheReason = {
  async test(ctrl, env) {
    await assert.rejects(env.KV.put(P + "ttl", "v", { expirationTtl: 5 }),
                         /Expiration TTL must be at least/);
    await assert.rejects(env.KV.list({ limit: 1001 }), /key_count_limit of 1001/);
  },
};
