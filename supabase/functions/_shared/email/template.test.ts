import { describe, expect, it } from "vitest";
import { renderEmailTemplate, TemplateVariableMissing } from "./template.ts";

const template = {
  name: "appointment",
  locale: "en",
  subject: "Your appointment on {{date}}",
  body_text: "Hello {{name}},\n\nSee you on {{date}}.{{#agent}} Ask for {{agent.name}}.{{/agent}}",
  body_html: "<p>Hello {{name}},</p><p>See you on {{date}}.</p>",
};

describe("email templates", () => {
  it("renders subject, text and HTML, escaping only the HTML part", () => {
    const out = renderEmailTemplate(template, {
      name: "Ada <& Co>",
      date: "Tuesday",
      agent: { name: "Grace" },
    });
    expect(out).toEqual({
      subject: "Your appointment on Tuesday",
      text: "Hello Ada <& Co>,\n\nSee you on Tuesday. Ask for Grace.",
      html: "<p>Hello Ada &lt;&amp; Co&gt;,</p><p>See you on Tuesday.</p>",
    });
  });

  it("a missing variable is an error before anything renders, naming each one", () => {
    expect(() => renderEmailTemplate(template, { name: "Ada" })).toThrow(TemplateVariableMissing);
    try {
      renderEmailTemplate(template, { name: "Ada" });
    } catch (err) {
      expect((err as TemplateVariableMissing).missing).toEqual(["date", "agent"]);
    }
  });

  it("false and null are given values (a section left out), not holes", () => {
    const out = renderEmailTemplate(template, { name: "Ada", date: "Tuesday", agent: false });
    expect(out.text).toBe("Hello Ada,\n\nSee you on Tuesday.");
  });

  it("a subject cannot carry a header line break", () => {
    const out = renderEmailTemplate(
      { ...template, subject: "Hi {{name}}", body_html: null },
      { name: "Ada\r\nBcc: x@y.test", date: "d", agent: null },
    );
    expect(out.subject).toBe("Hi Ada Bcc: x@y.test");
    expect(out.html).toBeUndefined();
  });
});
