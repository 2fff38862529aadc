// The in-app inbox: every message the system sent me; tapping one marks it read and opens its page.
const api = require('../../services/api');
const format = require('../../services/format');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { items: [], unread: 0, loaded: false },
  methods: {
    onShow() { return this.load(); },
    load() {
      return api.notifications().then((body) => this.setData({
        items: body.notifications.map((n) => ({ ...n, at: format.time(n.at) })), unread: body.unread, loaded: true,
      }), () => this.setData({ loaded: true }));
    },
    onOpen(event) {
      const item = this.data.items[Number(event.currentTarget.dataset.index)];
      const done = item.read ? Promise.resolve() : api.markRead({ ids: [item.id] }).then(() => this.load(), () => {});
      return done.then(() => {
        if (item.link) wx.navigateTo({ url: item.link.charAt(0) === '/' ? item.link : `/${item.link}` });
      });
    },
    onReadAll() {
      return api.markRead({ all: true }).then(() => this.load(), () => {});
    },
  },
});
