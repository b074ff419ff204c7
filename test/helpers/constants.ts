/** Values shared by the test helpers; importing this never loads the server. */
export const ORIGIN = 'http://localhost:8080';
/** A fixed data key for tests (never used outside them). */
export const TEST_DATA_KEYS = `test:${Buffer.alloc(32, 7).toString('base64')}`;
