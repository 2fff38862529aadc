// A livelihood project (opened from its plaque): progress, milestones, updates, supervising deputies;
// follow it (then consent to progress messages) or report a problem about it.
const api = require('../../services/api');
const entry = require('../../services/entry');
const format = require('../../services/format');
const subscribe = require('../../services/subscribe');
const { absolute } = require('../../services/request');
const fontSize = require('../../services/fontsize');

Component({
  behaviors: [fontSize],
  data: { project: null, error: '', busy: false },
  methods: {
    onLoad(options) {
      const { code, redirect } = entry.codeFor('project', options);
      if (redirect) { wx.redirectTo({ url: redirect }); return Promise.resolve(); }
      this.code = code;
      return api.project(code).then((body) => this.show(body.project), (err) => this.setData({ error: err.message }));
    },
    show(project) {
      const updates = project.updates.map((u) => ({ ...u, at: format.time(u.at), photos: u.photos.map((p) => absolute(p.url)) }));
      this.setData({ project: { ...project, updates } });
    },
    onFollow() {
      if (this.data.busy) return Promise.resolve();
      const following = this.data.project.following;
      this.setData({ busy: true });
      return (following ? api.unfollow(this.code) : api.follow(this.code)).then((body) => {
        this.setData({ 'project.following': body.following, 'project.followers': body.followers, busy: false });
        if (body.following) return subscribe.askAndRequest(['project_progress'], '已关注。是否接收项目进展提醒？');
        return null;
      }, () => this.setData({ busy: false }));
    },
    onReport() {
      wx.navigateTo({ url: `/pages/report/index?project=${this.code}` });
    },
    openDeputy(event) {
      wx.navigateTo({ url: `/pages/deputy/index?code=${event.currentTarget.dataset.code}` });
    },
  },
});
