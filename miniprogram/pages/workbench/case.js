// A case in the deputy's workbench: everything the deputy may see, and buttons for what they may do
// now (accept, decline with a reason, opinion, forward to the office, reply to the citizen).
const caseBehavior = require('../case/behavior');

Component({ behaviors: [caseBehavior] });
