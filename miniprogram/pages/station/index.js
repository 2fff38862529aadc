// A liaison station (from its board's code): reception hours, member deputies, report to the station, and what
// is open for comment through it (征集) and the 问政 collecting questions that may be asked through it.
const api = require('../../services/api');
const entry = require('../../services/entry');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { station: null, error: '', consultations: [], inquiries: [] },
  methods: {
    onLoad(options) {
      const { code, redirect } = entry.codeFor('station', options);
      if (redirect) { wx.redirectTo({ url: redirect }); return Promise.resolve(); }
      api.consultations(code).then((body) => this.setData({ consultations: body.consultations }), () => {});
      api.inquiries(code).then((body) => this.setData({ inquiries: body.inquiries }), () => {});
      return api.station(code).then((body) => this.setData({ station: body.station }),
        (err) => this.setData({ error: err.message }));
    },
    onReport() {
      wx.navigateTo({ url: `/pages/report/index?station=${this.data.station.code}` });
    },
    openDeputy(event) {
      wx.navigateTo({ url: `/pages/deputy/index?code=${event.currentTarget.dataset.code}` });
    },
    openConsultation(event) {
      const { code } = event.currentTarget.dataset;
      wx.navigateTo({ url: `/pages/consultation/detail?code=${code}&station=${this.data.station.code}` });
    },
    openInquiry(event) {
      const { code } = event.currentTarget.dataset;
      wx.navigateTo({ url: `/pages/inquiry/ask?code=${code}&station=${this.data.station.code}` });
    },
    openStation(event) {
      wx.navigateTo({ url: `/pages/station/index?code=${event.currentTarget.dataset.code}` });
    },
  },
});
