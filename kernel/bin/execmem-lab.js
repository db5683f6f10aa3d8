#!/usr/bin/env node
"use strict";
require("../dist/cli.js")
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
