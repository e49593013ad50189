/**
 * The XSS corpus. Each vector takes a marker id: if the browser ever ran the
 * vector, it would call `__xss(id)` (or `alert(id)`), or leave an element
 * whose id starts with `xss-`. The test checks that none of that happens and
 * that the user sees each vector as the plain text it is.
 */

export interface Vector {
  readonly name: string;
  readonly make: (id: string) => string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export const VECTORS: readonly Vector[] = [
  // script tags
  { name: 'script', make: (id) => `<script>__xss('${id}')</script>` },
  { name: 'script uppercase src data:', make: (id) => `<SCRIPT SRC="data:text/javascript,__xss('${id}')"></SCRIPT>` },
  { name: 'script split by <', make: (id) => `<<script>__xss('${id}');//<</script>` },
  { name: 'script in svg', make: (id) => `<svg><script>__xss('${id}')</script></svg>` },
  // event-handler attributes
  { name: 'img onerror', make: (id) => `<img src=x onerror=__xss('${id}')>` },
  { name: 'img onerror quoted', make: (id) => `<img src="x" onerror="__xss('${id}')">` },
  { name: 'img onerror alert (dialog)', make: (id) => `<img src=x onerror=alert('${id}')>` },
  { name: 'svg onload', make: (id) => `<svg/onload=__xss('${id}')>` },
  { name: 'body onload', make: (id) => `<body onload=__xss('${id}')>` },
  { name: 'details ontoggle', make: (id) => `<details open ontoggle=__xss('${id}')>` },
  { name: 'input autofocus onfocus', make: (id) => `<input autofocus onfocus=__xss('${id}')>` },
  { name: 'video source onerror', make: (id) => `<video><source onerror=__xss('${id}')></video>` },
  { name: 'audio onerror', make: (id) => `<audio src=x onerror=__xss('${id}')>` },
  { name: 'marquee onstart', make: (id) => `<marquee onstart=__xss('${id}')>x</marquee>` },
  { name: 'svg animate onbegin', make: (id) => `<svg><animate onbegin=__xss('${id}') attributeName=x dur=1s>` },
  { name: 'img eval(src)', make: (id) => `<img src=x:alert(alt) onerror=eval(src) alt='${id}'>` },
  // attribute breakouts
  { name: 'double-quote breakout to script', make: (id) => `"><script>__xss('${id}')</script>` },
  { name: 'single-quote breakout to script', make: (id) => `'><script>__xss('${id}')</script>` },
  { name: 'double-quote breakout to handler', make: (id) => `" autofocus onfocus="__xss('${id}')" x="` },
  { name: 'single-quote breakout to handler', make: (id) => `' autofocus onfocus='__xss('${id}')' x='` },
  { name: 'unquoted handler after quote', make: (id) => `" onmouseover=__xss('${id}') id="xss-${id}` },
  { name: 'phx-hook attribute injection', make: (id) => `" phx-hook="Evil" phx-click="x" data-phx-id="xss-${id}` },
  // javascript: and data: URLs
  { name: 'javascript: URL', make: (id) => `javascript:__xss('${id}')` },
  { name: 'javascript: mixed case, leading space', make: (id) => ` JaVaScRiPt:__xss('${id}')` },
  { name: 'javascript: with entity tab', make: (id) => `jav&#x09;ascript:__xss('${id}')` },
  { name: 'javascript: all entities', make: (id) => `&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;__xss('${id}')` },
  { name: 'data: URL base64 html', make: (id) => `data:text/html;base64,${b64(`<script>parent.__xss('${id}')</script>`)}` },
  { name: 'a href javascript: with marker id', make: (id) => `<a href="javascript:__xss('${id}')" id="xss-${id}">x</a>` },
  { name: 'form button formaction', make: (id) => `<form><button formaction="javascript:__xss('${id}')" id="xss-${id}">x</button></form>` },
  { name: 'meta refresh', make: (id) => `<meta http-equiv="refresh" content="0;url=javascript:__xss('${id}')">` },
  { name: 'base href', make: (id) => `<base href="javascript:__xss('${id}')//">` },
  { name: 'object data javascript:', make: (id) => `<object data="javascript:__xss('${id}')"></object>` },
  // SVG / MathML
  { name: 'svg set href', make: (id) => `<svg><a><set attributeName=href to="javascript:__xss('${id}')"/><text y=20>x</text></a></svg>` },
  { name: 'svg foreignObject iframe', make: (id) => `<svg><foreignObject><iframe srcdoc="<script>parent.__xss('${id}')</script>"></iframe></foreignObject></svg>` },
  { name: 'mathml mglyph style mXSS', make: (id) => `<math><mtext><table><mglyph><style><img src=x onerror=__xss('${id}')>` },
  { name: 'mathml maction href', make: (id) => `<math><maction actiontype="statusline" xlink:href="javascript:__xss('${id}')">x</maction></math>` },
  // template / style / iframe srcdoc / noscript
  { name: 'iframe srcdoc', make: (id) => `<iframe srcdoc="<script>parent.__xss('${id}')</script>"></iframe>` },
  { name: 'iframe srcdoc entity-encoded', make: (id) => `<iframe srcdoc="&lt;script&gt;parent.__xss('${id}')&lt;/script&gt;"></iframe>` },
  { name: 'iframe src javascript:', make: (id) => `<iframe src="javascript:parent.__xss('${id}')"></iframe>` },
  { name: 'template shadowrootmode', make: (id) => `<div><template shadowrootmode="open"><img src=x onerror=__xss('${id}')></template></div>` },
  { name: 'style breakout', make: (id) => `<style>*{}</style><img src=x onerror=__xss('${id}')>` },
  { name: 'noscript title mXSS', make: (id) => `<noscript><p title="</noscript><img src=x onerror=__xss('${id}')>">` },
  { name: 'embed data: html', make: (id) => `<embed src="data:text/html,<script>parent.__xss('${id}')</script>">` },
  // closing-tag and comment tricks
  { name: '</textarea> breakout', make: (id) => `</textarea><script>__xss('${id}')</script><img src=x onerror=__xss('${id}')>` },
  { name: '</title> breakout', make: (id) => `</title><img src=x onerror=__xss('${id}')>` },
  { name: '</style> breakout', make: (id) => `</style><img src=x onerror=__xss('${id}')>` },
  { name: '</script> breakout', make: (id) => `</script><img src=x onerror=__xss('${id}')>` },
  { name: 'comment close -->', make: (id) => `--><img src=x onerror=__xss('${id}')>` },
  { name: 'comment close --!>', make: (id) => `--!><img src=x onerror=__xss('${id}')>` },
  { name: 'comment inside vector', make: (id) => `<!--<img src=x onerror=__xss('${id}')>--><div id="xss-${id}"></div>` },
  // entities and encoded variants
  { name: 'entity-encoded script', make: (id) => `&lt;script&gt;__xss('${id}')&lt;/script&gt;` },
  { name: 'decimal entities', make: (id) => `&#60;img src=x onerror=__xss('${id}')&#62;` },
  { name: 'hex entities', make: (id) => `&#x3C;svg onload=__xss('${id}')&#x3E;` },
  { name: 'entity without semicolon', make: (id) => `&lt<img src=x onerror=__xss('${id}')&gt` },
  { name: 'percent-encoded', make: (id) => `%3Cscript%3E__xss('${id}')%3C/script%3E` },
  { name: 'JS unicode escapes as text', make: (id) => `\\u003cscript\\u003e__xss('${id}')\\u003c/script\\u003e` },
  { name: 'fullwidth brackets', make: (id) => `\uff1cscript\uff1e__xss('${id}')\uff1c/script\uff1e` },
  { name: 'ampersand soup', make: (id) => `&amp;lt;img src=x onerror=__xss('${id}')&amp;gt; & &; &#; &#x; &unknown;` },
  // null bytes, control and unicode tricks
  { name: 'null byte inside tag name', make: (id) => `<scr\u0000ipt>__xss('${id}')</scr\u0000ipt>` },
  { name: 'leading null byte', make: (id) => `\u0000<img src=x onerror=__xss('${id}')>` },
  { name: 'CRLF then script', make: (id) => `\r\n<script>__xss('${id}')</script>\r` },
  { name: 'RTL override', make: (id) => `\u202e<img src=x onerror=__xss('${id}')>\u202c` },
  { name: 'astral and combining', make: (id) => `😈\u0301<svg onload=__xss('${id}')>𝒳` },
  // wire-shaped and template-shaped strings
  { name: 'LiveView diff JSON', make: (id) => `{"s":["<img src=x onerror=__xss('${id}')>"],"0":"x","r":1}` },
  { name: 'template literal', make: (id) => `\${__xss('${id}')}\`-alert('${id}')-\`` },
  { name: 'element id marker only', make: (id) => `<div id="xss-${id}">marker</div>` },
];
