"""Can SmolLM2-135M-Instruct write a tool call TRL can parse? Samples it on one
``Arithmetic-v0`` task, with the tools the TRL bridge gives it, in several prompt set-ups.

    python examples/integrations/smollm2_tool_calls.py [--samples 6] [--task 0]

Each completion is read by TRL's own parser (``trl.chat_template_utils.parse_response`` after
``add_response_schema``, as ``GRPOTrainer`` reads it) and, leniently, by a regex that also
accepts SmolLM2-1.7B's list form ``<tool_call>[{...}]</tool_call>`` (a call counts when its
name is one of the env's tools and its arguments are a JSON object). It re-runs the set-ups of
the README's table (measured here with 32-48 new tokens; ~1 minute per set-up on idle cores).
"""

from __future__ import annotations

import argparse
import json
import re
import time

CHATML = (
    "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + "
    "'<|im_end|>\\n'}}{% endfor %}{% if add_generation_prompt %}{{'<|im_start|>assistant\\n'}}"
    "{% endif %}"
)
# The function-calling system prompt of SmolLM2-1.7B-Instruct (its own format: a JSON list).
NATIVE_PROMPT = (
    "You are an expert in composing functions. You are given a question and a set of possible "
    "functions. Based on the question, you will need to make one or more function/tool calls "
    "to achieve the purpose. If none of the functions can be used, point it out and refuse to "
    "answer. If the given question lacks the parameters required by the function, also point "
    "it out.\n\nYou have access to the following tools:\n<tools>{tools}</tools>\n\nThe output "
    "MUST strictly adhere to the following format, and NO other text MUST be included.\nThe "
    "example format is as follows. Please make sure the parameter type is correct. If no "
    "function call is needed, please make the tool calls an empty list '[]'.\n<tool_call>[\n"
    '{{"name": "func_name1", "arguments": {{"argument1": "value1", "argument2": "value2"}}}},\n'
    "... (more tool calls as required)\n]</tool_call>"
)


def lenient_calls(text: str, names: set[str]) -> int:
    """Calls in ``text`` with a known tool name and JSON-object arguments (lists allowed)."""
    found = 0
    for body in re.findall(r"<tool_call>\s*(.*?)\s*</tool_call>", text, re.S):
        try:
            value = json.loads(body)
        except ValueError:
            continue
        for call in value if isinstance(value, list) else [value]:
            found += (
                isinstance(call, dict)
                and call.get("name") in names
                and isinstance(call.get("arguments"), dict)
            )
    return found


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=6, help="sampled completions per set-up")
    parser.add_argument("--task", type=int, default=0, help="task index")
    parser.add_argument("--max-tokens", type=int, default=40)
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import get_json_schema
    from trl.chat_template_utils import add_response_schema, parse_response

    from reasongym.agents.models import smollm2
    from reasongym.integrations import trl as rg

    path = smollm2.prepare()
    tokenizer = add_response_schema(AutoTokenizer.from_pretrained(path))
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    env = rg.environment_factory("reasongym/Arithmetic-v0")()
    tools = [get_json_schema(env.calculator), get_json_schema(env.submit_answer)]
    names = {t["function"]["name"] for t in tools}
    task = [{"role": "user", "content": env.reset(task_index=args.task)}]

    def call(name: str, arguments: dict) -> dict:
        function = {"name": name, "arguments": arguments}
        return {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"type": "function", "function": function}],
        }  # noqa: E501

    demo = [
        {"role": "user", "content": "Problem:\nCompute 12 + 7 * 3."},
        call("calculator", {"expression": "12 + 7 * 3"}),
        {"role": "tool", "name": "calculator", "content": "33"},
        call("submit_answer", {"answer": "33"}),
        {"role": "tool", "name": "submit_answer", "content": "Correct."},
    ]
    system = {
        "role": "system",
        "content": "You are a calculator agent. Always answer with a tool call, never with prose.",
    }
    native = {
        "role": "system",
        "content": NATIVE_PROMPT.format(tools=json.dumps([t["function"] for t in tools])),
    }
    setups = [  # (label, messages, template tools, chat template, forced reply start)
        ("as TRL sends it", task, tools, None, ""),
        ("a worked example first", demo + task, tools, None, ""),
        ("worked example + system prompt", [system, *demo, *task], tools, None, ""),
        ("SmolLM2-1.7B's own prompt", [native, *task], None, CHATML, ""),
        ("reply forced to '<tool_call>'", task, tools, None, "<tool_call>\n"),
        ('reply forced to \'{"name": "\'', task, tools, None, '<tool_call>\n{"name": "'),
        ("1.7B prompt, forced '<tool_call>['", [native, *task], None, CHATML, "<tool_call>["),
    ]
    rows = []
    for label, messages, with_tools, template, forced in setups:
        kwargs = {} if template is None else {"chat_template": template}
        text = tokenizer.apply_chat_template(
            messages, tools=with_tools, tokenize=False, add_generation_prompt=True, **kwargs
        )
        ids = tokenizer(text + forced, return_tensors="pt").input_ids
        prefix = tokenizer(forced, add_special_tokens=False).input_ids
        row = {"setup": label}
        for mode, n in (("greedy", 1), ("T=1", args.samples)):
            torch.manual_seed(0)
            start = time.perf_counter()
            with torch.no_grad():
                out = model.generate(
                    ids.repeat(n, 1),
                    attention_mask=torch.ones(n, ids.shape[1], dtype=torch.long),
                    do_sample=mode != "greedy",
                    temperature=1.0 if mode != "greedy" else None,
                    top_p=None,
                    top_k=None,
                    max_new_tokens=args.max_tokens,
                    pad_token_id=tokenizer.pad_token_id,
                )
            parsed = lenient = 0
            for completion in out[:, ids.shape[1] :].tolist():
                message = parse_response(tokenizer, prefix + completion)
                parsed += bool(message.get("tool_calls"))
                reply = forced + tokenizer.decode(completion).split("<|im_end|>")[0]
                lenient += bool(lenient_calls(reply, names))
                row.setdefault("example", reply[:70])
            row[mode] = f"{parsed}/{n} parsed, {lenient}/{n} lenient"
            row[f"{mode} s"] = round(time.perf_counter() - start, 1)
        print(f"{label:<36} greedy {row['greedy']:<24} T=1 {row['T=1']:<24} {row['example']!r}")
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
