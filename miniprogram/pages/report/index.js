// The report form: to a deputy, a station or a project (?deputy=|station=|project=<code>).
// Photos upload as they are picked; the client request id is made once per form, so a retry after a
// network failure never files the case twice. Consent to progress messages is asked after filing.
const api = require('../../services/api');
const format = require('../../services/format');
const subscribe = require('../../services/subscribe');
const { toast } = require('../../services/request');
const fontSize = require('../../services/fontsize');

const MAX_PHOTOS = 9;
const TARGETS = ['deputy', 'station', 'project'];

Component({
  behaviors: [fontSize],
  data: {
    target: null, targetName: '', categories: [], categoryIndex: -1, content: '', photos: [],
    location: '', latitude: null, longitude: null, phone: '', anonymous: false, smsNotify: false, busy: false, limit: 2000,
    similar: [],
  },
  methods: {
    onLoad(options) {
      const kind = TARGETS.find((k) => options[k]);
      if (!kind) { toast('缺少反映对象'); return; }
      const code = String(options[kind]).toUpperCase();
      this.requestId = format.newRequestId();
      this.setData({ target: { kind, code } });
      const load = { deputy: api.deputy, station: api.station, project: api.project }[kind];
      load(code).then((body) => this.setData({ targetName: (body[kind] || {}).name || code }), () => {});
      api.categories().then((body) => this.setData({ categories: body.categories, limit: body.limits.content }),
        () => {});
    },
    onCategory(event) { this.setData({ categoryIndex: Number(event.detail.value) }); },
    onContent(event) { this.setData({ content: event.detail.value }); },
    // 附近有相同的反映: when the citizen has written the problem, open reports of the same problem nearby are
    // offered; "我也遇到" follows one of them instead of filing the same thing again.
    lookSimilar() {
      const d = this.data;
      const text = `${d.content} ${d.location}`.trim();
      if (!d.target || d.content.trim().length < 5) return Promise.resolve();
      return api.similar({ [d.target.kind]: d.target.code, text, latitude: d.latitude, longitude: d.longitude })
        .then((body) => this.setData({ similar: body.similar || [] }), () => {});
    },
    onSupport(event) {
      const { number } = event.currentTarget.dataset;
      return api.support(number).then((body) => {
        this.setData({ similar: this.data.similar.map((s) => (s.number === number
          ? { ...s, supported: true, supporters: body.supporters } : s)) });
        wx.showToast({ title: body.added ? '已记下，您也遇到' : '您已经点过了', icon: 'success' });
      }, () => {});
    },
    onPhone(event) { this.setData({ phone: event.detail.value }); },
    onAnonymous(event) { this.setData({ anonymous: event.detail.value }); },
    onSmsNotify(event) { this.setData({ smsNotify: event.detail.value.length > 0 }); },
    onPickPhotos() {
      const room = MAX_PHOTOS - this.data.photos.length;
      if (room <= 0) { toast(`最多上传${MAX_PHOTOS}张图片`); return; }
      wx.chooseMedia({
        count: room,
        mediaType: ['image'],
        sizeType: ['compressed'],
        success: (res) => {
          res.tempFiles.reduce((chain, file) => chain.then(() => api.uploadPhoto(file.tempFilePath)
            .then((body) => this.setData({ photos: this.data.photos.concat([{ id: body.id, path: file.tempFilePath }]) }))),
          Promise.resolve()).catch(() => {});
        },
      });
    },
    onRemovePhoto(event) {
      const { id } = event.currentTarget.dataset;
      this.setData({ photos: this.data.photos.filter((p) => p.id !== id) });
    },
    onLocate() {
      wx.chooseLocation({
        success: (res) => this.setData({
          location: res.name || res.address || '', latitude: res.latitude, longitude: res.longitude,
        }, () => this.lookSimilar()),
      });
    },
    validate() {
      if (this.data.categoryIndex < 0) return '请选择问题类别';
      if (this.data.content.trim().length < 5) return '请把问题写清楚（至少5个字）';
      return '';
    },
    onSubmit() {
      if (this.data.busy) return Promise.resolve();
      const problem = this.validate();
      if (problem) { toast(problem); return Promise.resolve(); }
      const d = this.data;
      const payload = {
        [d.target.kind]: d.target.code,
        category: d.categories[d.categoryIndex].code,
        content: d.content.trim(),
        photos: d.photos.map((p) => p.id),
        location: d.location,
        latitude: d.latitude,
        longitude: d.longitude,
        contact_phone: d.phone.trim(),
        anonymous: d.anonymous,
        sms_notify: d.smsNotify,
        client_request_id: this.requestId,
      };
      this.setData({ busy: true });
      return api.createCase(payload).then((body) => {
        const { number } = body.case;
        wx.showToast({ title: '已提交', icon: 'success' });
        return subscribe.askAndRequest(['case_progress'], `反映已提交（编号 ${number}）。是否接收办理进度提醒？`)
          .then(() => wx.redirectTo({ url: `/pages/case/detail?number=${number}` }));
      }, () => {}).then(() => this.setData({ busy: false }));
    },
  },
});
