// Where a scan lands: a plain-link QR (options.q = PUBLIC_BASE_URL/d|p|s|q|w/<code>, or a station's 问政 code
// PUBLIC_BASE_URL/w/<code>/ask?s=<station>) or a mini-program
// code (options.scene = "d=<code>", "p=<code>", "s=<code>", "q=<code>", "w=<code>") both open the matching page.
const PAGES = {
  d: (code) => `/pages/deputy/index?code=${code}`,
  p: (code) => `/pages/project/detail?code=${code}`,
  s: (code) => `/pages/station/index?code=${code}`,
  q: (code) => `/pages/consultation/detail?code=${code}`,
  w: (code) => `/pages/inquiry/ask?code=${code}`,
};
const KINDS = { d: 'deputy', p: 'project', s: 'station', q: 'consultation', w: 'inquiry' };

function decode(value) {
  try { return decodeURIComponent(value); } catch (e) { return value; }
}

function target(kind, code) {
  const clean = String(code || '').trim().toUpperCase();
  if (!PAGES[kind] || !/^[A-Z0-9]{1,16}$/.test(clean)) return null;
  return { kind: KINDS[kind], code: clean, url: PAGES[kind](clean) };
}

// → {kind, code, url} or null when the options carry no scan.
function parseEntry(options = {}) {
  if (options.q) {
    const link = decode(options.q);
    // a station's printed 问政 code: PUBLIC_BASE_URL/w/<code>/ask?s=<station> (the ask form, station preset)
    const ask = link.match(/^https?:\/\/[^/]+(?:\/[^?#]*)?\/w\/([A-Za-z0-9]+)\/ask\/?(?:\?(?:.*&)?s=([A-Za-z0-9]{1,16}))?(?:[&#].*)?$/);
    if (ask) {
      const found = target('w', ask[1]);
      if (found && ask[2]) found.station = ask[2].toUpperCase();
      if (found && ask[2]) found.url += `&station=${found.station}`;
      return found;
    }
    const match = link.match(/^https?:\/\/[^/]+(?:\/[^?#]*)?\/([dpsqw])\/([A-Za-z0-9]+)\/?(?:[?#].*)?$/);
    return match ? target(match[1], match[2]) : null;
  }
  if (options.scene) {
    const match = decode(options.scene).match(/^([dpsqw])[=:]([A-Za-z0-9]+)$/);
    return match ? target(match[1], match[2]) : null;
  }
  return null;
}

// What wx.scanCode read: a link, a scene-like text, or a bare code such as DB0001.
function parseScan(text) {
  const value = String(text || '').trim();
  if (/^https?:\/\//.test(value)) return parseEntry({ q: encodeURIComponent(value) });
  return parseEntry({ scene: value });
}

// The code a page should show: its own ?code=, or the one a scan brought (when it is for this kind).
function codeFor(kind, options = {}) {
  const entry = parseEntry(options);
  if (entry && entry.kind === kind) return { code: entry.code, station: entry.station };
  if (entry) return { redirect: entry.url };
  return { code: String(options.code || '').toUpperCase() };
}

module.exports = { parseEntry, parseScan, codeFor };
