import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Architecture-specific behaviour is written once, in lib/arch (data and hooks on each entry):
 * elsewhere no code compares a value with an architecture name. Also applied to notebooks/src
 * by tests/arch-names.test.ts.
 */
const ARCH = "/^(x86|x64|arm64|aarch64|riscv)/";
const archMessage =
  "no architecture-name comparison outside lib/arch: add data or a hook to the architecture's entry (lib/arch/<name>/) and use it";
export const ARCH_NAME_RULE = [
  "error",
  ...[
    `BinaryExpression[operator=/^[!=]==?$/] > Literal[value=${ARCH}]`,
    `BinaryExpression[operator=/^[!=]==?$/] > TemplateLiteral > TemplateElement[value.raw=${ARCH}]`,
    `SwitchCase > Literal.test[value=${ARCH}]`,
    `CallExpression[callee.property.name=/^(startsWith|endsWith)$/] > Literal[value=${ARCH}]`,
  ].map((selector) => ({ selector, message: archMessage })),
];

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "out/**", "notebooks/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    files: ["lib/**/*.ts", "kernel/**/*.ts"],
    ignores: ["lib/arch/**"],
    rules: { "no-restricted-syntax": ARCH_NAME_RULE },
  },
  {
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        require: "readonly",
        module: "writable",
        __dirname: "readonly",
        __filename: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        URLSearchParams: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        performance: "readonly",
        structuredClone: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
      },
    },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
