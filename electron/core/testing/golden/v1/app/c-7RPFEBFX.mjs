import { createRequire as __edcCreateRequire } from 'node:module'; const require = __edcCreateRequire(import.meta.url);
import{a,b,c}from"./c-TZYXYXB2.mjs";import"./c-H6SOOPMA.mjs";import"./c-OAGG7ZEG.mjs";import"./c-6OBTWC4G.mjs";import"./c-6275DQ3Y.mjs";import"./c-3DVRBW6O.mjs";export{a as SERVER_LINK_FILE,c as pair,b as readServerLink};
