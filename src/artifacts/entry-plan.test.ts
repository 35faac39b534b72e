import { test } from "node:test";
import assert from "node:assert/strict";
import { KilnError } from "../base/index.js";
import { checkSymlinkTarget, classifyEntry, normalizeEntryName, planExtraction, type RawEntry } from "./entry-plan.js";
import { resolveLimits } from "./limits.js";

const limits = resolveLimits();
const file = (name: string, size = 1, mode = 0o100644): RawEntry => ({ name, externalFileAttributes: (mode << 16) >>> 0, uncompressedSize: size });
const link = (name: string, targetLength = 4): RawEntry => file(name, targetLength, 0o120777);
const dir = (name: string): RawEntry => file(name, 0, 0o040755);

const refusal = (pattern: RegExp) => (e: unknown) => e instanceof KilnError && e.code === "InvalidParameterValueException" && pattern.test(e.message);

test("normalises ordinary names and drops '.' and empty segments", () => {
  assert.deepEqual(normalizeEntryName("a/b.txt"), { path: "a/b.txt", isDirectory: false });
  assert.deepEqual(normalizeEntryName("./a//b/"), { path: "a/b", isDirectory: true });
  assert.deepEqual(normalizeEntryName("./"), { path: "", isDirectory: true });
  assert.deepEqual(normalizeEntryName("..a/b..c"), { path: "..a/b..c", isDirectory: false });
});

test("refuses unsafe names, naming the entry", () => {
  const cases: Array<[string, RegExp]> = [
    ["../evil", /"\.\.\/evil".*"\.\." path segments/],
    ["a/../../evil", /"\.\." path segments/],
    ["a/..", /"\.\." path segments/],
    ["/abs", /"\/abs".*absolute paths/],
    ["//abs", /absolute paths/],
    ["C:/Windows/evil", /drive-letter/],
    ["..\\evil", /backslash/],
    ["a\\b", /backslash/],
    ["a\0b", /"a\\u0000b".*NUL/],
    ["", /empty/],
    [`${"x".repeat(256)}`, /longer than 255 bytes/],
  ];
  for (const [name, pattern] of cases) assert.throws(() => normalizeEntryName(name), refusal(pattern), JSON.stringify(name));
});

test("classifies by unix mode and keeps only the executable bit", () => {
  assert.deepEqual(classifyEntry("bootstrap", 0o100755 << 16, false), { kind: "file", mode: 0o755 });
  assert.deepEqual(classifyEntry("x", 0o100700 << 16, false), { kind: "file", mode: 0o755 });
  assert.deepEqual(classifyEntry("x", 0o100001 << 16, false), { kind: "file", mode: 0o755 });
  assert.deepEqual(classifyEntry("x", 0o104666 << 16, false), { kind: "file", mode: 0o644 }, "setuid is dropped");
  assert.deepEqual(classifyEntry("x", 0o100600 << 16, false), { kind: "file", mode: 0o644 });
  assert.deepEqual(classifyEntry("dos.txt", 0x20, false), { kind: "file", mode: 0o644 }, "no unix mode (DOS host)");
  assert.deepEqual(classifyEntry("d/", 0, true), { kind: "directory", mode: 0o755 });
  assert.deepEqual(classifyEntry("d", (0o040700 << 16) >>> 0, false), { kind: "directory", mode: 0o755 });
  assert.deepEqual(classifyEntry("l", (0o120777 << 16) >>> 0, false), { kind: "symlink", mode: 0 });
  for (const type of [0o010000, 0o020000, 0o060000, 0o140000]) {
    assert.throws(() => classifyEntry("special", ((type | 0o644) << 16) >>> 0, false), refusal(/"special".*unsupported file type/));
  }
});

test("plans directories parents-first and files in zip order", () => {
  const plan = planExtraction([file("b/c/d.txt", 3), dir("b/"), file("a.txt", 2, 0o100755), link("b/l")], limits);
  assert.deepEqual(plan.directories, ["b", "b/c"]);
  assert.deepEqual(
    plan.entries.map((e) => [e.path, e.kind, e.mode, e.index]),
    [
      ["b/c/d.txt", "file", 0o644, 0],
      ["a.txt", "file", 0o755, 2],
      ["b/l", "symlink", 0, 3],
    ],
  );
  assert.equal(plan.declaredBytes, 3 + 2 + 4);
  assert.equal(plan.kinds.get("b/c"), "directory");
});

test("skips the root directory entry", () => {
  assert.deepEqual(planExtraction([dir("./"), file("x")], limits).directories, []);
});

test("refuses duplicate paths and file-versus-directory collisions", () => {
  const cases: Array<[RawEntry[], RegExp]> = [
    [[file("a.txt"), file("a.txt")], /"a\.txt".*more than once/],
    [[file("a.txt"), file("./a.txt")], /"\.\/a\.txt".*same path as entry "a\.txt"/],
    [[dir("d/"), dir("d/")], /more than once/],
    [[file("a"), file("a/b")], /"a\/b".*parent "a" is a file/],
    [[file("a/b"), file("a")], /"a".*conflicts with entry "a\/b".*both a directory and a file/],
    [[file("a"), dir("a/")], /"a\/".*both a file and a directory/],
    [[link("lib"), file("lib/x.so")], /"lib\/x\.so".*parent "lib" is a symlink/],
    [[file("lib/x.so"), link("lib")], /"lib".*both a directory and a symlink/],
  ];
  for (const [entries, pattern] of cases) assert.throws(() => planExtraction(entries, limits), refusal(pattern), JSON.stringify(entries.map((e) => e.name)));
});

test("an implicit directory may be listed explicitly later", () => {
  const plan = planExtraction([file("d/x"), dir("d/")], limits);
  assert.deepEqual(plan.directories, ["d"]);
});

test("refuses by declared size and entry count before reading data", () => {
  const small = resolveLimits({ maxUnzippedBytes: 100, maxEntries: 2 });
  assert.equal(planExtraction([file("a", 60), file("b", 40)], small).declaredBytes, 100);
  assert.throws(() => planExtraction([file("a", 60), file("b", 41)], small), refusal(/^Unzipped size must be smaller than 100 bytes$/));
  assert.throws(() => planExtraction([file("a"), file("b"), file("c")], small), refusal(/3 entries; at most 2/));
  assert.throws(() => planExtraction([link("l", 0)], limits), refusal(/empty target/));
  assert.throws(() => planExtraction([link("l", 4096)], limits), refusal(/longer than 4095 bytes/));
});

test("symlink targets must resolve inside the package", () => {
  const kinds = new Map([
    ["lib", "directory"],
    ["lib/x.so", "file"],
    ["bin", "directory"],
    ["up", "symlink"],
  ] as const);
  const at = (path: string) => ({ name: path, path });
  assert.equal(checkSymlinkTarget(at("lib/y.so"), "x.so", kinds), "lib/x.so");
  assert.equal(checkSymlinkTarget(at("bin/tool"), "../lib/x.so", kinds), "lib/x.so");
  assert.equal(checkSymlinkTarget(at("bin/root"), "..", kinds), "");
  assert.equal(checkSymlinkTarget(at("bin/dangling"), "./nope/./x", kinds), "bin/nope/x");
  assert.equal(checkSymlinkTarget(at("chain"), "up", kinds), "up", "pointing at a checked symlink is fine");

  const cases: Array<[string, string, RegExp]> = [
    ["etc", "/etc", /"etc".*symlink to "\/etc".*absolute/],
    ["x", "../outside", /points outside the package/],
    ["bin/x", "../../outside", /points outside the package/],
    ["bin/x", "../lib/../../x", /points outside the package/],
    ["x", "up/../..", /passes through another symlink \("up"\)/],
    ["x", "up/x", /passes through another symlink/],
    ["x", "a\\..\\..\\b", /backslash/],
    ["x", "a\0b", /NUL/],
  ];
  for (const [path, target, pattern] of cases) assert.throws(() => checkSymlinkTarget(at(path), target, kinds), refusal(pattern), `${path} -> ${target}`);
});
