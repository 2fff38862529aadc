// A deputy's profile (opened from a 代表码) with the way to report to them.
const api = require('../../services/api');
const entry = require('../../services/entry');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { deputy: null, error: '' },
  methods: {
    onLoad(options) {
      const { code, redirect } = entry.codeFor('deputy', options);
      if (redirect) { wx.redirectTo({ url: redirect }); return; }
      if (!code) { this.setData({ error: '缺少代表码' }); return; }
      api.deputy(code).then(
        (body) => {
          this.setData({ deputy: body.deputy });
          wx.setNavigationBarTitle({ title: `${body.deputy.name}代表` });
        },
        (err) => this.setData({ error: err.message }),
      );
    },
    onReport() {
      wx.navigateTo({ url: `/pages/report/index?deputy=${this.data.deputy.code}` });
    },
    onStation() {
      wx.navigateTo({ url: `/pages/station/index?code=${this.data.deputy.station.code}` });
    },
    openProject(event) {
      wx.navigateTo({ url: `/pages/project/detail?code=${event.currentTarget.dataset.code}` });
    },
  },
});
