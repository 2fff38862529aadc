// Where the server is. An operator sets both to the public https host before uploading the
// mini-program (docs/api.md); the same host must be listed as a request/upload domain in WeChat.
module.exports = {
  apiBase: 'http://127.0.0.1:5000/api/v1',
  publicBase: 'http://127.0.0.1:5000',
};
