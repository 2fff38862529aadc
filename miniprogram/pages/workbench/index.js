// The deputy's inbox: cases that came through their code, by tab, with counts.
const api = require('../../services/api');
const fontSize = require('../../services/fontsize');

const TABS = [
  { key: 'todo', label: '待受理' }, { key: 'open', label: '办理中' }, { key: 'closed', label: '已办结' },
];

Component({
  behaviors: [fontSize],
  data: { tabs: TABS, tab: 'todo', cases: [], counts: {}, total: 0, page: 1, loaded: false, error: '' },
  methods: {
    onShow() { return this.load(1); },
    load(page) {
      return api.inbox({ state: this.data.tab, page }).then((body) => this.setData({
        cases: page === 1 ? body.cases : this.data.cases.concat(body.cases), counts: body.counts, total: body.total,
        page, loaded: true, error: '',
      }), (err) => this.setData({ loaded: true, error: err.message }));
    },
    onTab(event) {
      this.setData({ tab: event.currentTarget.dataset.key });
      return this.load(1);
    },
    onReachBottom() {
      return this.data.cases.length < this.data.total ? this.load(this.data.page + 1) : Promise.resolve();
    },
    onOpen(event) {
      wx.navigateTo({ url: `/pages/workbench/case?number=${event.detail.number}` });
    },
    onSuggestions() {
      wx.navigateTo({ url: '/pages/suggestion/index' });
    },
  },
});
