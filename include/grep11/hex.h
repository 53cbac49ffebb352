/* Hexadecimal digits, shared by every parser that reads them. */
#ifndef GREP11_HEX_H
#define GREP11_HEX_H

/* The value of one hex digit (either case), or -1. */
int grep11_hex_digit(char c);

#endif
