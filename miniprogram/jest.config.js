module.exports = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/__tests__/**/*.test.js'],
  snapshotSerializers: ['miniprogram-simulate/jest-snapshot-plugin'],
};
