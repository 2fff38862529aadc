// Loading pages and components of this mini-program into miniprogram-simulate (pages are built with
// the Component constructor, so they load like components).
const path = require('path');
const simulate = require('miniprogram-simulate');

const ROOT = path.resolve(__dirname, '../..');

const loaded = {};

function render(file, properties) {
  if (!loaded[file]) loaded[file] = simulate.load(path.join(ROOT, file), { compiler: 'simulate', rootPath: ROOT });
  const id = loaded[file];
  const comp = simulate.render(id, properties);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

const text = (comp) => comp.dom.textContent.replace(/\s+/g, ' ');

module.exports = { render, text, simulate };
