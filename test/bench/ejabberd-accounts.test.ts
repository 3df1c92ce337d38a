/**
 * The suite's ejabberd accounts (bench/suite/ejabberd.ts): ejabberd's `dump_table passwd` of u0 is
 * copied under u0..u{n-1} for `ejabberdctl load`; anything but SCRAM-SHA-256 with 4096 iterations
 * is refused, so ejabberd's logins cost what Vigil's do.
 */
import { describe, expect, it } from 'vitest';
import { passwdLoadText, SCRAM_ITERATIONS } from '../../bench/suite/ejabberd.js';

// As ejabberd 23.01 writes it (auth_password_format: scram, auth_scram_hash: sha256).
const dump = `{tables,[{passwd,[{record_name,passwd},{attributes,[us,password]}]}]}.
{passwd,{<<"u0">>,<<"bench.example">>},
        {scram,<<"6kUA7AmjnbQIpVNNgW+pVtDXjAtER7JQUodcdNk5I6A=">>,
               <<"0eV2gTffjrEYuNaeto0oDwPPcamE2vKwSZRbgn0RVTM=">>,
               <<"RLYuimW9Vn14TUrZfsg7ZQ==">>,sha256,4096}}.
`;

describe('passwdLoadText', () => {
  it('keeps the table header and gives every name the same SCRAM record', () => {
    const lines = passwdLoadText(dump, 3).trimEnd().split('\n');
    expect(lines[0]).toBe('{tables,[{passwd,[{record_name,passwd},{attributes,[us,password]}]}]}.');
    expect(lines.slice(1)).toEqual(
      [0, 1, 2].map(
        (i) =>
          `{passwd,{<<"u${i}">>,<<"bench.example">>},{scram,<<"6kUA7AmjnbQIpVNNgW+pVtDXjAtER7JQUodcdNk5I6A=">>,<<"0eV2gTffjrEYuNaeto0oDwPPcamE2vKwSZRbgn0RVTM=">>,<<"RLYuimW9Vn14TUrZfsg7ZQ==">>,sha256,4096}}.`,
      ),
    );
  });

  it('refuses SHA-1, other iteration counts, plain passwords and more than one record', () => {
    expect(SCRAM_ITERATIONS).toBe(4096);
    expect(() => passwdLoadText(dump.replace('sha256', 'sha'), 2)).toThrow(/unexpected/);
    expect(() => passwdLoadText(dump.replace(',4096}', ',10000}'), 2)).toThrow(/unexpected/);
    expect(() => passwdLoadText(dump.split('\n').slice(0, 1).join('\n') + '\n{passwd,{<<"u0">>,<<"bench.example">>},<<"pw">>}.\n', 2)).toThrow(/unexpected/);
    expect(() => passwdLoadText(dump + dump.split('\n').slice(1).join('\n').replace('u0', 'u1'), 2)).toThrow(/unexpected/);
  });
});
