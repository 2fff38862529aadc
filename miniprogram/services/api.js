// Every call the pages make to the server, by what it does (paths: docs/api.md, /openapi.json).
const { request, upload } = require('./request');

const enc = encodeURIComponent;
const query = (params) => Object.keys(params)
  .filter((k) => params[k] !== undefined && params[k] !== null && params[k] !== '')
  .map((k) => `${k}=${enc(params[k])}`).join('&');

module.exports = {
  me: () => request('/me'),
  bind: (data) => request('/bind', { method: 'POST', data, quiet: true }),
  categories: () => request('/categories', { auth: false }),
  deputies: (params = {}) => request(`/deputies?${query(params)}`, { auth: false }),
  deputy: (code) => request(`/deputies/${enc(code)}`, { auth: false }),
  station: (code) => request(`/stations/${enc(code)}`, { auth: false }),
  consultations: (station) => request(`/consultations?${query({ station })}`, { auth: false, quiet: true }),
  consultation: (code, station) => request(`/consultations/${enc(code)}?${query({ station })}`),
  giveOpinion: (code, data) => request(`/consultations/${enc(code)}/opinions`, { method: 'POST', data }),
  myOpinions: (code) => request(`/consultations/${enc(code)}/opinions/mine`),
  inquiries: (station) => request(`/inquiries?${query({ station })}`, { auth: false, quiet: true }),
  inquiry: (code) => request(`/inquiries/${enc(code)}`, { auth: false }),
  askInquiry: (code, data) => request(`/inquiries/${enc(code)}/questions`, { method: 'POST', data }),
  project: (code) => request(`/projects/${enc(code)}`),
  follow: (code) => request(`/projects/${enc(code)}/follow`, { method: 'PUT' }),
  unfollow: (code) => request(`/projects/${enc(code)}/follow`, { method: 'DELETE' }),
  followed: () => request('/me/follows'),
  uploadPhoto: (filePath) => upload('/uploads', filePath),
  createCase: (data) => request('/cases', { method: 'POST', data }),
  similar: (params) => request(`/similar?${query(params)}`, { quiet: true }),
  support: (number) => request(`/cases/${enc(number)}/support`, { method: 'POST' }),
  myCases: (page = 1) => request(`/cases/mine?page=${page}`),
  getCase: (number) => request(`/cases/${enc(number)}`),
  supplement: (number, data) => request(`/cases/${enc(number)}/supplements`, { method: 'POST', data }),
  rate: (number, data) => request(`/cases/${enc(number)}/rating`, { method: 'POST', data }),
  act: (number, action, data = {}) => request(`/cases/${enc(number)}/actions/${enc(action)}`, { method: 'POST', data }),
  inbox: (params = {}) => request(`/deputy/cases?${query(params)}`),
  suggestions: () => request('/suggestions'),
  draftSuggestion: (data) => request('/suggestions', { method: 'POST', data }),
  getSuggestion: (number) => request(`/suggestions/${enc(number)}`),
  suggestionAct: (number, action, data = {}) => request(`/suggestions/${enc(number)}/actions/${enc(action)}`,
    { method: 'POST', data }),
  notifications: (page = 1) => request(`/me/notifications?page=${page}`),
  markRead: (data) => request('/me/notifications/read', { method: 'POST', data }),
  subscriptionTemplates: () => request('/subscriptions', { quiet: true }),
  recordConsents: (results) => request('/subscriptions', { method: 'POST', data: { results }, quiet: true }),
};
