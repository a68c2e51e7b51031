// The plotly.js reglab ships: its core (scatter, axes, legend, hover, the plot API) and the two
// other trace types the dashboard and the HTML report draw: bar (gradient norms per layer,
// weight histograms) and heatmap (decision boundaries). Add a trace type here when a chart needs
// one, then `make plotly`.
'use strict';
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/heatmap')]);
module.exports = Plotly;
