// Subscribe-message consent: asked where it matters (after a report is filed, when following a
// project). wx.requestSubscribeMessage must run inside a tap, so callers ask from a modal's confirm.
const api = require('./api');

function askAndRequest(keys, prompt) {
  return api.subscriptionTemplates().then(({ templates }) => {
    const ids = keys.map((k) => templates[k]).filter(Boolean);
    if (!ids.length) return null;
    return new Promise((resolve) => {
      wx.showModal({
        title: '接收进展提醒',
        content: prompt,
        confirmText: '接收',
        cancelText: '暂不',
        success: ({ confirm }) => {
          if (!confirm) { resolve(null); return; }
          wx.requestSubscribeMessage({
            tmplIds: ids,
            success: (res) => {
              const results = {};
              ids.forEach((id) => { if (res[id]) results[id] = res[id]; });
              api.recordConsents(results).then(resolve, () => resolve(null));
            },
            fail: () => resolve(null),
          });
        },
        fail: () => resolve(null),
      });
    });
  }).catch(() => null);
}

module.exports = { askAndRequest };
