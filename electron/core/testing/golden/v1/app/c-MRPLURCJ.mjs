import { createRequire as __edcCreateRequire } from 'node:module'; const require = __edcCreateRequire(import.meta.url);
import{a,b,c,d,f as e}from"./c-VRIUJRSX.mjs";import"./c-3DVRBW6O.mjs";e();export{a as parseCookie,d as parseSetCookie,b as stringifyCookie,c as stringifySetCookie};
