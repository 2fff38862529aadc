// My cases, newest first, a page at a time.
const api = require('../../services/api');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { cases: [], page: 1, total: 0, loaded: false },
  methods: {
    onShow() { return this.load(1); },
    load(page) {
      return api.myCases(page).then((body) => this.setData({
        cases: page === 1 ? body.cases : this.data.cases.concat(body.cases), page, total: body.total, loaded: true,
      }), () => this.setData({ loaded: true }));
    },
    onReachBottom() {
      if (this.data.cases.length < this.data.total) return this.load(this.data.page + 1);
      return Promise.resolve();
    },
    onOpen(event) {
      wx.navigateTo({ url: `/pages/case/detail?number=${event.detail.number}` });
    },
  },
});
