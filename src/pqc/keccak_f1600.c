/* Keccak-f[1600] and the sponge (FIPS 202), portable C on 64-bit lanes.
 *
 * The permutation keeps all 25 lanes in locals and runs two rounds per loop
 * iteration, ping-ponging between the A and E lane sets, so the compiler can
 * hold the state in registers instead of re-reading an array each step;
 * hashing dominates ML-DSA/ML-KEM cost, so this is the hot loop of the
 * library. Lane names follow the usual row/column lettering (rows b,g,k,m,s
 * for y = 0..4, columns a,e,i,o,u for x = 0..4).
 *
 * The sponge state is a plain struct (see pqc.h) so partially absorbed
 * messages can be carried between processes.
 */
#include "keccak_internal.h"

#include "pqc_common.h"

#define ROL64(v, n) (((v) << (n)) | ((v) >> (64 - (n))))

static const uint64_t keccak_rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

void keccak_f1600(uint64_t s[25])
{
    uint64_t Aba, Abe, Abi, Abo, Abu, Aga, Age, Agi, Ago, Agu, Aka, Ake, Aki;
    uint64_t Ako, Aku, Ama, Ame, Ami, Amo, Amu, Asa, Ase, Asi, Aso, Asu;
    uint64_t Eba, Ebe, Ebi, Ebo, Ebu, Ega, Ege, Egi, Ego, Egu, Eka, Eke, Eki;
    uint64_t Eko, Eku, Ema, Eme, Emi, Emo, Emu, Esa, Ese, Esi, Eso, Esu;
    uint64_t b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;

    Aba = s[0];
    Abe = s[1];
    Abi = s[2];
    Abo = s[3];
    Abu = s[4];
    Aga = s[5];
    Age = s[6];
    Agi = s[7];
    Ago = s[8];
    Agu = s[9];
    Aka = s[10];
    Ake = s[11];
    Aki = s[12];
    Ako = s[13];
    Aku = s[14];
    Ama = s[15];
    Ame = s[16];
    Ami = s[17];
    Amo = s[18];
    Amu = s[19];
    Asa = s[20];
    Ase = s[21];
    Asi = s[22];
    Aso = s[23];
    Asu = s[24];

    for (int i = 0; i < 24; i += 2) {
        c0 = Aba ^ Aga ^ Aka ^ Ama ^ Asa;
        c1 = Abe ^ Age ^ Ake ^ Ame ^ Ase;
        c2 = Abi ^ Agi ^ Aki ^ Ami ^ Asi;
        c3 = Abo ^ Ago ^ Ako ^ Amo ^ Aso;
        c4 = Abu ^ Agu ^ Aku ^ Amu ^ Asu;
        d0 = c4 ^ ROL64(c1, 1);
        d1 = c0 ^ ROL64(c2, 1);
        d2 = c1 ^ ROL64(c3, 1);
        d3 = c2 ^ ROL64(c4, 1);
        d4 = c3 ^ ROL64(c0, 1);
        b0 = (Aba ^ d0);
        b1 = ROL64(Age ^ d1, 44);
        b2 = ROL64(Aki ^ d2, 43);
        b3 = ROL64(Amo ^ d3, 21);
        b4 = ROL64(Asu ^ d4, 14);
        Eba = b0 ^ (~b1 & b2) ^ keccak_rc[i];
        Ebe = b1 ^ (~b2 & b3);
        Ebi = b2 ^ (~b3 & b4);
        Ebo = b3 ^ (~b4 & b0);
        Ebu = b4 ^ (~b0 & b1);
        b0 = ROL64(Abo ^ d3, 28);
        b1 = ROL64(Agu ^ d4, 20);
        b2 = ROL64(Aka ^ d0, 3);
        b3 = ROL64(Ame ^ d1, 45);
        b4 = ROL64(Asi ^ d2, 61);
        Ega = b0 ^ (~b1 & b2);
        Ege = b1 ^ (~b2 & b3);
        Egi = b2 ^ (~b3 & b4);
        Ego = b3 ^ (~b4 & b0);
        Egu = b4 ^ (~b0 & b1);
        b0 = ROL64(Abe ^ d1, 1);
        b1 = ROL64(Agi ^ d2, 6);
        b2 = ROL64(Ako ^ d3, 25);
        b3 = ROL64(Amu ^ d4, 8);
        b4 = ROL64(Asa ^ d0, 18);
        Eka = b0 ^ (~b1 & b2);
        Eke = b1 ^ (~b2 & b3);
        Eki = b2 ^ (~b3 & b4);
        Eko = b3 ^ (~b4 & b0);
        Eku = b4 ^ (~b0 & b1);
        b0 = ROL64(Abu ^ d4, 27);
        b1 = ROL64(Aga ^ d0, 36);
        b2 = ROL64(Ake ^ d1, 10);
        b3 = ROL64(Ami ^ d2, 15);
        b4 = ROL64(Aso ^ d3, 56);
        Ema = b0 ^ (~b1 & b2);
        Eme = b1 ^ (~b2 & b3);
        Emi = b2 ^ (~b3 & b4);
        Emo = b3 ^ (~b4 & b0);
        Emu = b4 ^ (~b0 & b1);
        b0 = ROL64(Abi ^ d2, 62);
        b1 = ROL64(Ago ^ d3, 55);
        b2 = ROL64(Aku ^ d4, 39);
        b3 = ROL64(Ama ^ d0, 41);
        b4 = ROL64(Ase ^ d1, 2);
        Esa = b0 ^ (~b1 & b2);
        Ese = b1 ^ (~b2 & b3);
        Esi = b2 ^ (~b3 & b4);
        Eso = b3 ^ (~b4 & b0);
        Esu = b4 ^ (~b0 & b1);
        /* second round writes back into A */
        c0 = Eba ^ Ega ^ Eka ^ Ema ^ Esa;
        c1 = Ebe ^ Ege ^ Eke ^ Eme ^ Ese;
        c2 = Ebi ^ Egi ^ Eki ^ Emi ^ Esi;
        c3 = Ebo ^ Ego ^ Eko ^ Emo ^ Eso;
        c4 = Ebu ^ Egu ^ Eku ^ Emu ^ Esu;
        d0 = c4 ^ ROL64(c1, 1);
        d1 = c0 ^ ROL64(c2, 1);
        d2 = c1 ^ ROL64(c3, 1);
        d3 = c2 ^ ROL64(c4, 1);
        d4 = c3 ^ ROL64(c0, 1);
        b0 = (Eba ^ d0);
        b1 = ROL64(Ege ^ d1, 44);
        b2 = ROL64(Eki ^ d2, 43);
        b3 = ROL64(Emo ^ d3, 21);
        b4 = ROL64(Esu ^ d4, 14);
        Aba = b0 ^ (~b1 & b2) ^ keccak_rc[i + 1];
        Abe = b1 ^ (~b2 & b3);
        Abi = b2 ^ (~b3 & b4);
        Abo = b3 ^ (~b4 & b0);
        Abu = b4 ^ (~b0 & b1);
        b0 = ROL64(Ebo ^ d3, 28);
        b1 = ROL64(Egu ^ d4, 20);
        b2 = ROL64(Eka ^ d0, 3);
        b3 = ROL64(Eme ^ d1, 45);
        b4 = ROL64(Esi ^ d2, 61);
        Aga = b0 ^ (~b1 & b2);
        Age = b1 ^ (~b2 & b3);
        Agi = b2 ^ (~b3 & b4);
        Ago = b3 ^ (~b4 & b0);
        Agu = b4 ^ (~b0 & b1);
        b0 = ROL64(Ebe ^ d1, 1);
        b1 = ROL64(Egi ^ d2, 6);
        b2 = ROL64(Eko ^ d3, 25);
        b3 = ROL64(Emu ^ d4, 8);
        b4 = ROL64(Esa ^ d0, 18);
        Aka = b0 ^ (~b1 & b2);
        Ake = b1 ^ (~b2 & b3);
        Aki = b2 ^ (~b3 & b4);
        Ako = b3 ^ (~b4 & b0);
        Aku = b4 ^ (~b0 & b1);
        b0 = ROL64(Ebu ^ d4, 27);
        b1 = ROL64(Ega ^ d0, 36);
        b2 = ROL64(Eke ^ d1, 10);
        b3 = ROL64(Emi ^ d2, 15);
        b4 = ROL64(Eso ^ d3, 56);
        Ama = b0 ^ (~b1 & b2);
        Ame = b1 ^ (~b2 & b3);
        Ami = b2 ^ (~b3 & b4);
        Amo = b3 ^ (~b4 & b0);
        Amu = b4 ^ (~b0 & b1);
        b0 = ROL64(Ebi ^ d2, 62);
        b1 = ROL64(Ego ^ d3, 55);
        b2 = ROL64(Eku ^ d4, 39);
        b3 = ROL64(Ema ^ d0, 41);
        b4 = ROL64(Ese ^ d1, 2);
        Asa = b0 ^ (~b1 & b2);
        Ase = b1 ^ (~b2 & b3);
        Asi = b2 ^ (~b3 & b4);
        Aso = b3 ^ (~b4 & b0);
        Asu = b4 ^ (~b0 & b1);
    }

    s[0] = Aba;
    s[1] = Abe;
    s[2] = Abi;
    s[3] = Abo;
    s[4] = Abu;
    s[5] = Aga;
    s[6] = Age;
    s[7] = Agi;
    s[8] = Ago;
    s[9] = Agu;
    s[10] = Aka;
    s[11] = Ake;
    s[12] = Aki;
    s[13] = Ako;
    s[14] = Aku;
    s[15] = Ama;
    s[16] = Ame;
    s[17] = Ami;
    s[18] = Amo;
    s[19] = Amu;
    s[20] = Asa;
    s[21] = Ase;
    s[22] = Asi;
    s[23] = Aso;
    s[24] = Asu;
}
