// The deputy's suggestions (led, co-signed, and invitations to co-sign), and 起草建议 (pages/suggestion/edit).
const api = require('../../services/api');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { items: [], loaded: false, error: '' },
  methods: {
    onShow() {
      return api.suggestions().then((body) => this.setData({ items: body.suggestions, loaded: true, error: '' }),
        (err) => this.setData({ loaded: true, error: err.message }));
    },
    onDraft() { wx.navigateTo({ url: '/pages/suggestion/edit' }); },
    onOpen(event) {
      wx.navigateTo({ url: `/pages/suggestion/detail?number=${event.currentTarget.dataset.number}` });
    },
  },
});
