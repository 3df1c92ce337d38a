export { PasswordChecker } from '../auth/password-cache.js';
