// A case as its reporter (or anyone allowed) sees it: state, answer, timeline, rating and supplements.
const caseBehavior = require('./behavior');

Component({ behaviors: [caseBehavior] });
