// The action's version, as package.json gives it (a test keeps the two equal): written into results files.
export const ACTION_VERSION = '0.1.0'
