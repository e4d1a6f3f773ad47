// Bad manifests get a SchemeError that names the document, the kind, the field path and the
// fix.

import { describe, expect, it } from "vitest";
import { parseManifests } from "../../src/scheme/manifest.js";
import { objectFromJson } from "../../src/scheme/object-codec.js";
import { SchemeError } from "../../src/scheme/scheme-error.js";

function parseError(text: string): SchemeError {
  try {
    parseManifests(text);
  } catch (err) {
    if (err instanceof SchemeError) return err;
    throw err;
  }
  throw new Error("parseManifests accepted a bad manifest");
}

const POD_HEAD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n";

describe("parseManifests errors", () => {
  it("names an unknown field, its path and kind, and suggests the right name", () => {
    const err = parseError(`${POD_HEAD}spec:\n  containres:\n    - name: a\n`);
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toBe(
      'document 0: Pod "p": unknown field "spec.containres": PodSpec has no field "containres"; did you mean "containers"?',
    );
    expect(err.documentIndex).toBe(0);
    expect(err.path).toBe("spec.containres");
  });

  it("says how to fix an unknown field it has no suggestion for", () => {
    const err = parseError(`${POD_HEAD}spec:\n  containers:\n    - name: a\n      flavour: x\n`);
    expect(err.message).toBe(
      'document 0: Pod "p": unknown field "spec.containers[0].flavour": Container has no field "flavour"; remove it or fix its spelling (field names are camelCase, as in the Kubernetes API reference)',
    );
  });

  it("rejects proto (snake_case) names: only Kubernetes' JSON names are fields", () => {
    const err = parseError(`${POD_HEAD}spec:\n  node_name: n\n`);
    expect(err.message).toContain('unknown field "spec.node_name"');
    expect(err.message).toContain('did you mean "nodeName"?');
  });

  it("counts documents, empty ones included", () => {
    const err = parseError(
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# nothing\n---\n${POD_HEAD}spec: {bogus: 1}\n`,
    );
    expect(err.documentIndex).toBe(2);
    expect(err.message).toMatch(/^document 2: Pod "p": unknown field "spec.bogus"/);
  });

  it("names a missing apiVersion and the apiVersion of the kind", () => {
    const err = parseError("kind: Deployment\nmetadata: {name: d}\n");
    expect(err.message).toBe(
      'document 0: apiVersion not set; a Deployment has "apiVersion: apps/v1"',
    );
    expect(err.path).toBe("apiVersion");
  });

  it("names a missing kind", () => {
    expect(parseError("apiVersion: v1\nmetadata: {name: d}\n").message).toBe(
      'document 0: kind not set; add the kind of the object, e.g. "kind: Pod"',
    );
    expect(parseError("metadata: {name: d}\n").message).toBe(
      'document 0: apiVersion and kind not set; every object needs both, e.g. "apiVersion: v1" and "kind: Pod"',
    );
  });

  it("names an unknown kind in Kubernetes' words, with a hint", () => {
    const wrongVersion = parseError("apiVersion: v1\nkind: Deployment\n");
    expect(wrongVersion.code).toBe("not_found");
    expect(wrongVersion.message).toBe(
      'document 0: no matches for kind "Deployment" in version "v1"; did you mean apiVersion: apps/v1, kind: Deployment?',
    );
    const typo = parseError("apiVersion: apps/v1\nkind: Deploymnet\n");
    expect(typo.message).toBe(
      'document 0: no matches for kind "Deploymnet" in version "apps/v1"; apps/v1 has ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet',
    );
    const unserved = parseError("apiVersion: extensions/v1beta1\nkind: Ingress\n");
    expect(unserved.message).toMatch(
      /^document 0: no matches for kind "Ingress" in version "extensions\/v1beta1"; apiVersion "extensions\/v1beta1" is not served \(tug serves v1, apps\/v1, /,
    );
  });

  it("names a value of the wrong type and what was expected", () => {
    const replicas = parseError(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: three\n",
    );
    expect(replicas.message).toBe(
      'document 0: Deployment "d": spec.replicas: expected an integer (32-bit), got string "three"',
    );
    expect(replicas.path).toBe("spec.replicas");
    const label = parseError(
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {version: 1}\n`,
    );
    expect(label.message).toBe(
      'document 0: Pod "p": metadata.labels[version]: expected a string, got number 1; quote it',
    );
    const list = parseError(`${POD_HEAD}spec:\n  containers: {name: a}\n`);
    expect(list.message).toBe(
      'document 0: Pod "p": spec.containers: expected a list, got an object',
    );
    const port = parseError(
      `${POD_HEAD}spec:\n  containers:\n    - name: a\n      livenessProbe: {tcpSocket: {port: 80.5}}\n`,
    );
    expect(port.message).toBe(
      'document 0: Pod "p": spec.containers[0].livenessProbe.tcpSocket.port: expected an integer or a string (IntOrString), got number 80.5',
    );
    const time = parseError(
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  creationTimestamp: yesterday\n`,
    );
    expect(time.message).toBe(
      'document 0: Pod "p": metadata.creationTimestamp: expected an RFC 3339 time such as "2024-01-02T15:04:05Z", got string "yesterday"',
    );
  });

  it("rejects secret data that is not base64 and points at stringData", () => {
    const err = parseError(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  password: not base64!\n",
    );
    expect(err.message).toBe(
      'document 0: Secret "s": data[password]: expected base64-encoded data, got string "not base64!"; encode the value with base64 (or put plain text in stringData)',
    );
  });

  it("reads a bare number as a quantity, as Kubernetes does", () => {
    const [pod] = parseManifests(
      `${POD_HEAD}spec:\n  containers:\n    - name: a\n      resources: {limits: {cpu: 1, memory: 0.5}}\n`,
    );
    expect(pod).toBeDefined();
    const json = JSON.stringify(pod?.object);
    expect(json).toContain('"cpu":"1"');
    expect(json).toContain('"memory":"0.5"');
  });

  it("names invalid YAML and JSON", () => {
    const yaml = parseError("apiVersion: v1\n---\nkind: [Pod\n");
    expect(yaml.documentIndex).toBe(1);
    expect(yaml.message).toMatch(/^document 1: invalid YAML: /);
    const json = parseError('{"apiVersion": "v1",');
    expect(json.message).toMatch(
      /^invalid JSON: .*; fix the syntax \(or write the manifest as YAML\)$/,
    );
  });

  it("rejects a document that is not an object", () => {
    expect(parseError("just a string\n").message).toBe(
      'document 0: expected an object with apiVersion and kind, got string "just a string"',
    );
  });

  it("names the item of a list that is wrong", () => {
    const err = parseError(
      "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: b}\n    dta: {}\n",
    );
    expect(err.path).toBe("items[1].dta");
    expect(err.message).toBe(
      'document 0: items[1]: ConfigMap "b": unknown field "dta": ConfigMap has no field "dta"; did you mean "data"?',
    );
  });
});

describe("parseManifests inputs", () => {
  it("reads JSON, a JSON array, a List and a typed list", () => {
    expect(
      parseManifests('{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}'),
    ).toHaveLength(1);
    const array = parseManifests(
      '[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b"}}]',
    );
    expect(array.map((o) => o.documentIndex)).toEqual([0, 1]);
    const list = parseManifests(
      "apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: d}}\n",
    );
    expect(list.map((o) => `${o.path} ${o.kind.kind}`)).toEqual([
      "items[0] Namespace",
      "items[1] Deployment",
    ]);
    const typed = parseManifests(
      "apiVersion: v1\nkind: PodList\nitems:\n  - metadata: {name: a}\n",
    );
    expect(typed.map((o) => o.kind.kind)).toEqual(["Pod"]);
  });

  it("skips empty documents and returns nothing for an empty file", () => {
    expect(parseManifests("")).toEqual([]);
    expect(parseManifests("---\n# comment\n---\n")).toEqual([]);
  });

  it("objectFromJson without a document says only the kind and name", () => {
    expect(() =>
      objectFromJson({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spek: {} }),
    ).toThrow('Pod "p": unknown field "spek": Pod has no field "spek"; did you mean "spec"?');
  });
});
