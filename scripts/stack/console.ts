export interface ConsoleInfo {
  functionsUrl: string;
  sandboxUrl: string;
  dbUrl: string;
  functions: string[];
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The console on :54323. For now a page of links into the running stack (health, the messages
 * the sandbox received, each function); watching sessions and deliveries live comes later.
 */
export function createConsoleHandler(info: ConsoleInfo): (req: Request) => Response {
  const link = (href: string, text = href) => `<a href="${escape(href)}">${escape(text)}</a>`;
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Omnichannel local stack</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:0 .25rem}li{margin:.2rem 0}</style>
</head>
<body>
<h1>Omnichannel local stack</h1>
<ul>
<li>Health: ${link(`${info.functionsUrl}/health`)}</li>
<li>Messages the provider sandbox received: ${link(`${info.sandboxUrl}/__sandbox/messages`)}</li>
<li>Database: <code>${escape(info.dbUrl)}</code></li>
</ul>
<h2>Functions</h2>
<ul>
${info.functions.map((f) => `<li>${link(`${info.functionsUrl}/${f}`, f)}</li>`).join("\n")}
</ul>
</body>
</html>`;
  return (req) => {
    if (new URL(req.url).pathname !== "/") return new Response("Not found", { status: 404 });
    return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
  };
}
