// Validates Kubernetes objects offline against the API's schemas, with
// kubernetes-models' validate() (generated from the Kubernetes OpenAPI
// spec): stdin is a JSON array of objects (`kubectl kustomize` output);
// prints one line per object, `ok kind/name` or `error kind/name: why`, and
// exits 1 when any object is invalid or of a kind it does not know.
"use strict";

const input = require("fs").readFileSync(0, "utf8");
const objects = JSON.parse(input);
let failed = 0;
for (const obj of objects) {
  const id = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
  const [group, version] = obj.apiVersion.includes("/")
    ? obj.apiVersion.split("/")
    : [null, obj.apiVersion];
  let Model;
  try {
    const mod = require(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
    Model = mod[obj.kind];
  } catch (e) {
    Model = undefined;
  }
  if (!Model) {
    console.log(`error ${id}: no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
    failed++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`ok ${id}`);
  } catch (e) {
    console.log(`error ${id}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
