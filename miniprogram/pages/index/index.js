// Home: scan a code, find a deputy, my cases, messages (and the workbench for deputies).
const api = require('../../services/api');
const { currentAccount, login, toast } = require('../../services/request');
const entry = require('../../services/entry');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { q: '', deputies: [], searched: false, isDeputy: false, unread: 0 },
  methods: {
    onLoad(options) {
      const scanned = entry.parseEntry(options);
      if (scanned) {
        wx.redirectTo({ url: scanned.url });
        return;
      }
      const known = currentAccount();
      (known ? Promise.resolve(known) : login()).then((account) => {
        this.setData({ isDeputy: !!account && account.role === 'deputy' });
      }, () => {});
    },
    onShow() {
      api.notifications().then((body) => this.setData({ unread: body.unread }), () => {});
    },
    onScan() {
      wx.scanCode({
        success: (res) => {
          const found = entry.parseScan(res.result);
          if (found) wx.navigateTo({ url: found.url });
          else toast('未识别的二维码，请扫描代表码、项目牌或联络站码');
        },
      });
    },
    onInput(event) {
      this.setData({ q: event.detail.value });
    },
    onSearch() {
      const q = this.data.q.trim();
      if (!q) { toast('请输入代表姓名或代表码'); return; }
      api.deputies({ q }).then((body) => this.setData({ deputies: body.deputies, searched: true }), () => {});
    },
    openDeputy(event) {
      wx.navigateTo({ url: `/pages/deputy/index?code=${event.currentTarget.dataset.code}` });
    },
    go(event) {
      wx.navigateTo({ url: event.currentTarget.dataset.url });
    },
  },
});
