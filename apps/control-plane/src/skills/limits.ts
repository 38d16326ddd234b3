/** Upper bounds of one skill package (all files together). */
export const MAX_SKILL_BYTES = 5 * 1024 * 1024;
export const MAX_SKILL_FILES = 500;
