// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The mynacard authors
//
// The system test test-java.sh compiles this with javac and runs it once:
// for each SunPKCS11 configuration file named on the command line, it
// loads the token as a PKCS11 KeyStore with the next line of standard input
// as the PIN (never an argument: arguments show in ps), then for every
// private-key entry signs two messages with Signature.getInstance(
// "SHA256withRSA", provider) and verifies each signature with the entry's
// certificate through the JDK's own provider (not the card's), so the check
// does not trust the token.  One line a key on standard output:
//   KEY <alias> sha256=<certificate fingerprint, hex> verified=<true|false>
// (true: both signatures verified)
// and on an error, "ERROR <config>: <exception class>: <message>" and
// exit status 1.  All keys of all tokens are tried in one JVM: each JVM
// start costs about a second, and CI is near its time budget.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;

public final class SignCheck {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(
                new InputStreamReader(System.in, StandardCharsets.UTF_8));
        byte[] message = "mynacard: signed by Java through SunPKCS11, #0"
                .getBytes(StandardCharsets.UTF_8);
        int status = 0;
        for (String cfg : args) {
            String line = in.readLine();
            char[] pin = line == null ? null : line.toCharArray();
            try {
                Provider p = Security.getProvider("SunPKCS11").configure(cfg);
                KeyStore ks = KeyStore.getInstance("PKCS11", p);
                ks.load(null, pin);
                int keys = 0;
                for (String alias : Collections.list(ks.aliases())) {
                    if (!ks.isKeyEntry(alias))
                        continue;
                    keys++;
                    PrivateKey key = (PrivateKey) ks.getKey(alias, null);
                    X509Certificate cert =
                            (X509Certificate) ks.getCertificate(alias);
                    // Two signatures a key: how often a Java program that
                    // signs more than once makes the card ask (the test
                    // counts the VERIFY commands).
                    boolean ok = true;
                    for (int i = 0; i < 2; i++) {
                        message[message.length - 1] = (byte) ('0' + i);
                        Signature signer = Signature.getInstance(
                                "SHA256withRSA", p);
                        signer.initSign(key);
                        signer.update(message);
                        byte[] sig = signer.sign();
                        // The JDK's own RSA, not the token, checks it.
                        Signature verifier = Signature.getInstance(
                                "SHA256withRSA",
                                Security.getProvider("SunRsaSign"));
                        verifier.initVerify(cert.getPublicKey());
                        verifier.update(message);
                        ok &= verifier.verify(sig);
                    }
                    String fp = HexFormat.of().formatHex(MessageDigest
                            .getInstance("SHA-256").digest(cert.getEncoded()));
                    System.out.println("KEY " + alias + " sha256=" + fp
                            + " verified=" + ok);
                    if (!ok)
                        status = 1;
                }
                if (keys == 0) {
                    System.out.println("ERROR " + cfg + ": no private key");
                    status = 1;
                }
            } catch (Exception e) {
                Throwable t = e;
                StringBuilder why = new StringBuilder();
                while (t != null) {
                    why.append(": ").append(t.getClass().getName())
                            .append(": ").append(t.getMessage());
                    t = t.getCause();
                }
                System.out.println("ERROR " + cfg + why);
                status = 1;
            } finally {
                if (pin != null)
                    Arrays.fill(pin, '\0');
            }
        }
        System.exit(status);
    }
}
