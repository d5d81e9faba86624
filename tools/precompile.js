// Append Brython's compiled JavaScript of every Python module to a script-tag bundle.
//
//   node tools/precompile.js BRYTHON_JS BUNDLE_IN BUNDLE_OUT
//
// A bundle made by `brython-cli make_package` holds Python source: the first page load of
// an origin compiles each module it imports (about 1 s for the package in Chromium) and
// Brython keeps the result in its IndexedDB cache ("brython-cache"), which every later
// load reads back in full before the page's script runs. This script runs the very
// compiler of the given brython.js under Node on the bundle's (minified) sources and
// appends the output, which the bundle hands to Brython's import system the way its own
// cache does ($B.precompiled): a first visit compiles nothing and the cache stays small.
//
// Safety: compiled code is only valid for the Brython build that made it, so the appended
// block installs it only when the page's brython.js has the same build timestamp
// ($B.timestamp); with any other Brython the bundle is an ordinary source bundle. The
// output matches what Brython compiles in the browser (checked against the records of its
// IndexedDB cache: equal but for the random names it gives lambdas).
"use strict";
const fs = require("fs");
const vm = require("vm");

const [brythonPath, bundleIn, bundleOut] = process.argv.slice(2);
if (!bundleOut) {
  console.error("usage: node precompile.js BRYTHON_JS BUNDLE_IN BUNDLE_OUT");
  process.exit(2);
}
// brython.js expects a browser global scope; these are the only names its top level needs
// when it is not asked to run page scripts.
globalThis.window = globalThis;
globalThis.self = globalThis;
globalThis.addEventListener = function () {};
globalThis.module = {exports: {}};
vm.runInThisContext(fs.readFileSync(brythonPath, "utf8"), {filename: brythonPath});
const $B = globalThis.__BRYTHON__;

const text = fs.readFileSync(bundleIn, "utf8");
const prefix = "__BRYTHON__.loadBrythonPackage(";
if (!text.startsWith(prefix)) {
  console.error(bundleIn + ": not a make_package bundle");
  process.exit(1);
}
const vfs = JSON.parse(text.slice(prefix.length, text.lastIndexOf(")")));
const compiled = {};
for (const name of Object.keys(vfs)) {
  if (name === "$timestamp" || vfs[name][0] !== ".py") {
    continue;
  }
  const source = vfs[name][1];
  const isPackage = vfs[name].length === 4;
  // The file name Brython's VFS loader gives the module (it names the module's locals
  // and shows in tracebacks), as in VFSLoader.exec_module.
  const filename = "VFS." + name + (isPackage ? "/__init__.py" : ".py");
  $B.url2name[filename] = name;
  $B.file_cache[filename] = source;
  try {
    const root = $B.py2js({src: source, filename, imported: true}, name, name,
                          $B.builtins_scope);
    compiled[name] = [root.to_js(), isPackage ? 1 : 0];
  } catch (err) {
    console.error("precompile: " + name + ": " + (err.args || err.message || err));
    process.exit(1);
  }
}
const block = `;(function ($B) {
  // Compiled by Brython build ${$B.timestamp} (tools/precompile.js): used only by it.
  if ($B.timestamp !== ${$B.timestamp}) { return; }
  var compiled = ${JSON.stringify(compiled)};
  for (var name in compiled) {
    if (!$B.precompiled.hasOwnProperty(name)) {
      $B.precompiled[name] = compiled[name][1] ? [compiled[name][0]] : compiled[name][0];
    }
  }
})(__BRYTHON__);
`;
fs.writeFileSync(bundleOut, text.replace(/\s*$/, "\n") + block);
console.log(`precompile: ${Object.keys(compiled).length} modules, ${block.length} bytes`);
