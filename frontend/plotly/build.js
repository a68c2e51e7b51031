// `make plotly`: entry.js bundled from plotly.js's npm source (package-lock.json pins it) as one
// plain IIFE whose `var Plotly` is `window.Plotly`, the options of plotly.js's own esbuild-config.js.
//
// Why not plotly.js's prebuilt dist/plotly-cartesian.min.js: in a fresh Chromium context (a
// student's first open) it took 750-850 ms to load and run on the 2-core box; the same
// cartesian bundle rebuilt like this 330-380 ms, and this entry (no calendars, no box, violin,
// histogram, contour, pie, image) 270-320 ms. docs/dashboard.md has the measurements.
'use strict';
const path = require('path');
const esbuild = require('esbuild');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const { environmentPlugin } = require('esbuild-plugin-environment');

const version = require('plotly.js/package.json').version;
const out = path.resolve(__dirname, '../../backend/reglab/api/static/plotly.min.js');

esbuild
  .build({
    entryPoints: [path.join(__dirname, 'entry.js')],
    outfile: out,
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    legalComments: 'eof', // the licences of what the bundle includes (buffer, d3, ...)
    banner: {
      js:
        `/* plotly.js v${version} (core, bar, heatmap), built for reglab by frontend/plotly/build.js.\n` +
        ' * Copyright 2012-2026, Plotly, Inc. All rights reserved. Licensed under the MIT license. */',
    },
    plugins: [InlineCSSPlugin(), environmentPlugin({ NODE_DEBUG: false })],
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'info',
  })
  .catch(() => process.exit(1));
