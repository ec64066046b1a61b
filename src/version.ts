// The version, as package.json gives it (a test keeps the two equal): in results files and --version.
export const ACTION_VERSION = '0.1.0'
