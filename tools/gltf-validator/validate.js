#!/usr/bin/env node
// Validate glTF/GLB files with the Khronos glTF-Validator and print its JSON report.
// Usage: node validate.js FILE [FILE ...]   (one JSON report per line, in argument order)
// Exit status: 0 all files have no errors, 1 some file has errors, 2 a file could not be read.
"use strict";

const fs = require("fs");
const path = require("path");
const validator = require("gltf-validator");

async function validate(file) {
  const bytes = new Uint8Array(fs.readFileSync(file));
  return validator.validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues: 0, // report everything; the tests decide what matters
    writeTimestamp: false,
    externalResourceFunction: (uri) =>
      new Promise((resolve, reject) => {
        fs.readFile(path.resolve(path.dirname(file), decodeURIComponent(uri)), (err, data) =>
          err ? reject(err.toString()) : resolve(new Uint8Array(data)));
      }),
  });
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node validate.js FILE [FILE ...]");
    return 2;
  }
  let status = 0;
  for (const file of files) {
    try {
      const report = await validate(file);
      console.log(JSON.stringify(report));
      if (report.issues.numErrors > 0) status = Math.max(status, 1);
    } catch (err) {
      console.error(`${file}: ${err}`);
      status = 2;
    }
  }
  return status;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
